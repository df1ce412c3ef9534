import DuetAPI
import DuetModels

/// The hashed features of one recommend request: the user's (with the request's context), scored
/// once, and each candidate's. The same features `duet train` hashes for a log row
/// (`FeatureNaming.example` through `FeatureHasher.hash`), assembled from prepared parts.
///
/// Without interactions a candidate's features are its prepared hashed ones plus, per user, its
/// affinity: only the affinity is assembled here, and the prepared part is scored from the batch's
/// parts. With interactions (user × item crosses) every feature is assembled.
struct RequestFeatures {
    /// The user's and the context's named features (with interactions only), and their hashes (with
    /// the interactions among them).
    var userNamed: [NamedFeature]
    var user: [Feature]
    let batch: CandidateBatch
    /// Per candidate: every feature after the user's when `whole`, else only those that depend on
    /// the user (its affinity, if any), which follow `batch.own[c]`.
    var pairs = CandidateFeatures()
    let whole: Bool

    /// `batch` holds the candidates `ids`, with named features when `hasher` has interactions and with
    /// parts otherwise.
    init(user prepared: PreparedUser, context: [String: ContextValue]?, ids: [String], batch: CandidateBatch, hasher: FeatureHasher) {
        precondition(ids.count == batch.count)
        self.batch = batch
        whole = !hasher.interactions.isEmpty
        func named(_ key: String, _ value: ContextValue) -> NamedFeature {
            switch value {
            case .string(let s): NamedFeature(key, .string(s))
            case .number(let d): NamedFeature(key, .number(d))
            }
        }
        if whole {
            // Interactions cross the user's and the context's named features with each candidate's.
            userNamed = prepared.named
            for (key, value) in context ?? [:] { userNamed.append(named(key, value)) }
            user = hasher.hash(userNamed)
        } else {
            // Without them only the hashes count: the prepared user's and the context's.
            userNamed = []
            user = prepared.hashed
            for (key, value) in context ?? [:] { user.append(hasher.hash(named(key, value))) }
        }
        let n = batch.count
        pairs.reserveCapacity(candidates: n, features: whole ? (batch.own.features.count / max(n, 1)) * 2 + 2 : 1)
        var hashed: [Feature] = []
        var c = 0
        prepared.affinity.forEach(ids: ids, numbers: batch.numbers) { affinity in
            if whole {
                // The named form, for interactions (its value, a Float, hashes to the same feature).
                // Each candidate's own interactions, then user × candidate crosses (both directions).
                var named = batch.named[c]
                if let affinity = affinity.flatMap({ FeatureNaming.affinity(.number(Double($0.value))) }) { named.append(affinity) }
                hasher.hash(named, into: &hashed)
                hasher.crossed(user: userNamed, userHashed: user, item: named, itemHashed: hashed, into: &hashed)
                pairs.append(contentsOf: hashed)
            } else if let affinity {
                pairs.append(affinity)
            }
            pairs.close()
            c += 1
        }
    }
}

extension RequestFeatures {
    /// Every feature candidate c is scored with, after the user's.
    func candidate(_ c: Int) -> [Feature] {
        served([c]).features
    }

    /// The candidates at `indices`, each one's features after the user's (what an impression keeps).
    func served(_ indices: [Int]) -> CandidateFeatures {
        var out = CandidateFeatures()
        // Exactly sized: the impression keeps these for its TTL.
        var total = 0
        for c in indices {
            if !whole { total += batch.own.withFeatures(of: c) { $0.count } }
            total += pairs[c].count
        }
        out.reserveCapacity(candidates: indices.count, totalFeatures: total)
        for c in indices {
            if !whole { batch.own.withFeatures(of: c) { out.append(contentsOf: $0) } }
            out.append(contentsOf: pairs[c])
            out.close()
        }
        return out
    }

    /// Every candidate's score under `version` (the version the batch's parts were made with).
    func score(_ version: ModelVersion, scratch: inout ScoringScratch, into scores: inout [Float]) {
        if whole {
            version.score(user: user, candidates: pairs, scratch: &scratch, into: &scores)
        } else {
            version.score(user: user, parts: batch.parts, extras: pairs, scratch: &scratch, into: &scores)
        }
    }
}
