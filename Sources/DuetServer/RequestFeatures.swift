import DuetModels

/// The hashed features of one recommend request: the user's (with the request's context), scored
/// once, and each candidate's, in one flat batch. The same features `duet train` hashes for a log row
/// (`FeatureNaming.example` through `FeatureHasher.hash`), assembled from prepared parts.
struct RequestFeatures {
    /// The user's and the context's named features, and their hashes (with the interactions among them).
    var userNamed: [NamedFeature]
    var user: [Feature]
    var candidates = CandidateFeatures()

    init(user prepared: PreparedUser, context: [String: ContextValue]?, items: [PreparedCandidate], hasher: FeatureHasher) {
        userNamed = prepared.named
        for (key, value) in context ?? [:] {
            switch value {
            case .string(let s): userNamed.append(NamedFeature(key, .string(s)))
            case .number(let d): userNamed.append(NamedFeature(key, .number(d)))
            }
        }
        let interacting = !hasher.interactions.isEmpty
        if interacting {
            user = hasher.hash(userNamed)
        } else {
            user = prepared.hashed
            for f in userNamed[prepared.named.count...] { user.append(hasher.hash(f)) }
        }
        candidates.reserveCapacity(candidates: items.count, features: (items.first?.hashed.count ?? 4) + 1)
        var hashed: [Feature] = []
        for item in items {
            if interacting {
                // The named form, for interactions (its value, a Float, hashes to the same feature).
                let affinity = prepared.affinity[item.id].flatMap { FeatureNaming.affinity(.number(Double($0.value))) }
                // Each candidate's own interactions, then user × candidate crosses (both directions).
                var named = item.named
                if let affinity { named.append(affinity) }
                hasher.hash(named, into: &hashed)
                hasher.crossed(user: userNamed, userHashed: user, item: named, itemHashed: hashed, into: &hashed)
                candidates.append(contentsOf: hashed)
            } else {
                candidates.append(contentsOf: item.hashed)
                if let affinity = prepared.affinity[item.id] { candidates.append(affinity) }
            }
            candidates.close()
        }
    }
}
