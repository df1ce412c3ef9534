import DuetFeatures
import DuetModels

/// A request's features, prepared: the user's and the candidates' features named and hashed once
/// per entity, feature version and model shape (`PreparedCache`, `CandidateTable`), and, without
/// interactions, the candidates' score parts under the serving version. What is not prepared yet is
/// read from the feature store in one round trip.
final class FeaturePreparer: Sendable {
    let features: any FeatureReader
    let userSet: String
    let itemSet: String
    /// Prepared users (about 3 KB each with 80 affinity fields) and candidates, per generation.
    let preparedUsers = PreparedCache<PreparedUser>(capacity: 50_000)
    let preparedCandidates = CandidateTable()

    init(features: any FeatureReader, userSet: String, itemSet: String) {
        self.features = features
        self.userSet = userSet
        self.itemSet = itemSet
    }

    /// A request's prepared features (see `prepare`).
    struct Prepared {
        var user: PreparedUser
        var userVersion: String
        var items: CandidateBatch
        var itemVersion: String
        var degraded: Bool
    }

    /// The user's and the candidates' prepared features, each set at one version, and the candidates'
    /// score parts under `version` (or, with interactions, their named features). What is already
    /// prepared at a set's current version is not read again; the rest is read in one round trip.
    func prepare(user: String, candidates: [String], version: ModelVersion, hasher: FeatureHasher) async -> Prepared {
        let config = version.config
        let userSet = self.userSet, itemSet = self.itemSet
        let userVersion = await features.currentVersion(set: userSet)
        let itemVersion = await features.currentVersion(set: itemSet)
        let cachedUser = userVersion.flatMap { preparedUsers.cached(user, in: PreparedGeneration(set: userSet, version: $0, config: config)) }
        let interacting = !hasher.interactions.isEmpty, partsVersion = interacting ? nil : version
        var (store, slots, complete) = itemVersion.map {
            preparedCandidates.lookup(candidates, in: PreparedGeneration(set: itemSet, version: $0, config: config), version: partsVersion, named: interacting)
        } ?? (nil, Array(repeating: -1, count: candidates.count), nil)
        var missing: [String] = []
        for (c, id) in candidates.enumerated() where slots[c] < 0 { missing.append(id) }

        // What is not prepared: the user and the missing candidates, in one round trip.
        var userRead: FeatureReadResult?, itemRead: FeatureReadResult?
        if cachedUser == nil {
            (userRead, itemRead) = await features.read(user: user, userSet: userSet, items: missing, itemSet: itemSet)
        } else if !missing.isEmpty {
            itemRead = await features.read(set: itemSet, ids: missing)
        }
        if let read = itemRead, read.version != (itemVersion ?? ""), missing.count < candidates.count {
            // The item set moved to another version between the two looks: read every candidate at the new one.
            (store, slots, complete) = (nil, Array(repeating: -1, count: candidates.count), nil)
            missing = candidates
            itemRead = await features.read(set: itemSet, ids: candidates)
        }

        var result = Prepared(user: cachedUser ?? PreparedUser(row: userRead?.rows.first, hasher: hasher),
                                     userVersion: userVersion ?? "", items: CandidateBatch(capacity: 0), itemVersion: itemVersion ?? "",
                                     degraded: false)
        if cachedUser == nil, let u = userRead {
            if !u.degraded, !u.version.isEmpty {
                preparedUsers.keep([(user, result.user)], in: PreparedGeneration(set: userSet, version: u.version, config: config))
            }
            result.userVersion = u.version
            result.degraded = u.degraded
        }
        var fresh: [PreparedCandidate] = []
        if let itemRead {
            fresh.reserveCapacity(missing.count)
            for (j, id) in missing.enumerated() {
                fresh.append(PreparedCandidate(id: id, row: j < itemRead.rows.count ? itemRead.rows[j] : nil, hasher: hasher))
            }
            // Defaults that stood in for rows Redis did not return are not kept; an item without a row
            // at a version is (it has none at that version, ever).
            if !itemRead.degraded, !itemRead.version.isEmpty {
                let kept = preparedCandidates.keep(fresh, in: PreparedGeneration(set: itemSet, version: itemRead.version, config: config))
                if store == nil || store === kept.store {
                    // Every candidate is in one store now: read them all from it.
                    var next = kept.slots.makeIterator()
                    for c in slots.indices where slots[c] < 0 { slots[c] = next.next()! }
                    store = kept.store
                    fresh = []
                }
            }
            result.itemVersion = itemRead.version
            result.degraded = result.degraded || itemRead.degraded
        }
        if let complete {
            result.items = complete
        } else {
            result.items = preparedCandidates.batch(store: store, slots: slots, fresh: fresh, version: partsVersion, named: interacting)
        }
        return result
    }
}
