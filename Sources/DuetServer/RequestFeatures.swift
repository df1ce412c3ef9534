import DuetModels

/// The hashed features of one recommend request: the user's (with the request's context), scored
/// once, and each candidate's. The same features `duet train` hashes for a log row
/// (`FeatureNaming.example` through `FeatureHasher.hash`), assembled from prepared parts.
///
/// Without interactions a candidate's features are its prepared `hashed` ones plus, per user, its
/// affinity: only the affinity is assembled here, and the prepared part is scored from the
/// candidate's `ItemParts`. With interactions (user × item crosses) every feature is assembled.
struct RequestFeatures {
    /// The user's and the context's named features, and their hashes (with the interactions among them).
    var userNamed: [NamedFeature]
    var user: [Feature]
    let items: [PreparedCandidate]
    /// Per candidate: every feature after the user's when `whole`, else only those that depend on
    /// the user (its affinity, if any), which follow `items[c].hashed`.
    var pairs = CandidateFeatures()
    let whole: Bool

    init(user prepared: PreparedUser, context: [String: ContextValue]?, items: [PreparedCandidate], hasher: FeatureHasher) {
        self.items = items
        userNamed = prepared.named
        for (key, value) in context ?? [:] {
            switch value {
            case .string(let s): userNamed.append(NamedFeature(key, .string(s)))
            case .number(let d): userNamed.append(NamedFeature(key, .number(d)))
            }
        }
        whole = !hasher.interactions.isEmpty
        if whole {
            user = hasher.hash(userNamed)
        } else {
            user = prepared.hashed
            for f in userNamed[prepared.named.count...] { user.append(hasher.hash(f)) }
        }
        pairs.reserveCapacity(candidates: items.count, features: whole ? (items.first?.hashed.count ?? 4) * 2 : 1)
        let affinities = prepared.affinity
        var hashed: [Feature] = []
        for item in items {
            if whole {
                // The named form, for interactions (its value, a Float, hashes to the same feature).
                let affinity = affinities(item.id, number: item.number).flatMap { FeatureNaming.affinity(.number(Double($0.value))) }
                // Each candidate's own interactions, then user × candidate crosses (both directions).
                var named = item.named
                if let affinity { named.append(affinity) }
                hasher.hash(named, into: &hashed)
                hasher.crossed(user: userNamed, userHashed: user, item: named, itemHashed: hashed, into: &hashed)
                pairs.append(contentsOf: hashed)
            } else if let affinity = affinities(item.id, number: item.number) {
                pairs.append(affinity)
            }
            pairs.close()
        }
    }

    /// Every feature candidate c is scored with, after the user's.
    func candidate(_ c: Int) -> [Feature] {
        whole ? Array(pairs[c]) : items[c].hashed + pairs[c]
    }

    /// The candidates at `indices`, each one's features after the user's (what an impression keeps).
    func served(_ indices: [Int]) -> CandidateFeatures {
        var out = CandidateFeatures()
        for c in indices {
            if !whole { out.append(contentsOf: items[c].hashed) }
            out.append(contentsOf: pairs[c])
            out.close()
        }
        return out
    }

    /// Every candidate's score under `version`, in order.
    func score(_ version: ModelVersion, scratch: inout ScoringScratch, into scores: inout [Float]) {
        if whole {
            version.score(user: user, candidates: pairs, scratch: &scratch, into: &scores)
        } else {
            var parts: [Float] = []
            parts.reserveCapacity(items.count * ItemParts.width(k: version.config.k))
            for item in items { item.appendParts(for: version, to: &parts) }
            version.score(user: user, parts: parts, extras: pairs, scratch: &scratch, into: &scores)
        }
    }
}
