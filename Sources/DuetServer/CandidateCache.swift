import DuetFeatures
import DuetModels
import Atomics
import Synchronization

/// The user-independent part of each candidate's features, named and hashed once per item, feature
/// version and hashing shape, instead of once per request (the naming and hashing of 100 candidates
/// was the largest cost of `/v1/recommend`). Feature versions are immutable, so an entry never goes
/// stale; a new version or model shape starts a new generation and the oldest is dropped.
final class CandidateCache: Sendable {
    /// One candidate, ready to score: the naming layer's features and their hashes.
    final class Item: Sendable {
        let named: [NamedFeature]
        let hashed: [Feature]
        /// The user field holding the user's affinity to this item.
        let affinityField: String

        init(id: String, row: FeatureRow?, hasher: FeatureHasher) {
            named = FeatureNaming.candidateFeatures(itemID: id, item: row.map { DuetRuntime.featureValues($0.values) } ?? [:])
            var out: [Feature] = []
            out.reserveCapacity(named.count)
            for f in named { out.append(hasher.hash(f)) }
            hashed = out
            affinityField = FeatureNaming.affinityField(itemID: id)
        }
    }

    struct Generation: Hashable {
        var set: String
        var version: String
        var bits: Int
        var interactions: [[String]]
    }

    private let generations = Mutex<[Generation: [String: Item]]>([:])
    /// Items kept per generation, and generations kept.
    let capacity: Int
    let maxGenerations = 4

    /// Candidates found prepared, and prepared afresh.
    let hits = ManagedAtomic<Int>(0)
    let misses = ManagedAtomic<Int>(0)

    init(capacity: Int = 200_000) {
        self.capacity = capacity
    }

    /// The kept items of `ids` at `version` of `set` (nil where none is kept yet).
    func cached(ids: [String], set: String, version: String, config: ModelConfig) -> [Item?] {
        let generation = Generation(set: set, version: version, bits: config.bits, interactions: config.interactions)
        let found: [Item?]? = generations.withLock { g in
            guard let known = g[generation] else { return nil }
            let found = ids.map { known[$0] }
            return found
        }
        let out = found ?? Array(repeating: nil, count: ids.count)
        let h = out.reduce(0) { $0 + ($1 == nil ? 0 : 1) }
        hits.wrappingIncrement(by: h, ordering: .relaxed)
        misses.wrappingIncrement(by: ids.count - h, ordering: .relaxed)
        return out
    }

    /// Prepares the items of `read` (rows for `ids`, in order) and keeps them. The items of a
    /// degraded read (defaults standing in for rows Redis did not return) are not kept; an item
    /// without a row at a version is kept (it has none at that version, ever).
    func prepare(ids: [String], read: FeatureReadResult, config: ModelConfig, hasher: FeatureHasher) -> [Item] {
        var out: [Item] = []
        out.reserveCapacity(ids.count)
        for (i, id) in ids.enumerated() {
            out.append(Item(id: id, row: i < read.rows.count ? read.rows[i] : nil, hasher: hasher))
        }
        guard !read.degraded, !read.version.isEmpty, !ids.isEmpty else { return out }
        let generation = Generation(set: read.set, version: read.version, bits: config.bits, interactions: config.interactions)
        generations.withLock { g in
            if g[generation] == nil, g.count >= maxGenerations { g.removeAll() }
            var known = g.removeValue(forKey: generation) ?? [:]
            for (id, item) in zip(ids, out) where known.count < capacity { known[id] = item }
            g[generation] = known
        }
        return out
    }
}
