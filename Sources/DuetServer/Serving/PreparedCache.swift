import Atomics
import DuetModels
import Synchronization

/// Features named and hashed once per entity, feature version and hashing shape, instead of once
/// per request: the server keeps its users' here (candidates, read 100 at a time, are kept flat in
/// `CandidateTable`). Feature
/// versions are immutable, so an entry never goes stale; a new version or model shape starts a new
/// generation and, past `maxGenerations`, the old ones are dropped. A full generation starts over
/// (bounded memory, no per-entry bookkeeping on the read path).
final class PreparedCache<Value: Sendable>: Sendable {
    typealias Generation = PreparedGeneration

    private let generations = Mutex<[Generation: [String: Value]]>([:])
    /// Entries kept per generation, and generations kept.
    let capacity: Int
    let maxGenerations = 4
    /// Lookups answered, and not.
    let hits = ManagedAtomic<Int>(0)
    let misses = ManagedAtomic<Int>(0)

    init(capacity: Int = 200_000) {
        self.capacity = capacity
    }

    /// The kept values of `ids` in `generation` (nil where none is kept yet).
    func cached(_ ids: [String], in generation: Generation) -> [Value?] {
        let found: [Value?]? = generations.withLock { g in
            guard let known = g[generation] else { return nil }
            return ids.map { known[$0] }
        }
        let out = found ?? Array(repeating: nil, count: ids.count)
        let h = out.reduce(0) { $0 + ($1 == nil ? 0 : 1) }
        hits.wrappingIncrement(by: h, ordering: .relaxed)
        misses.wrappingIncrement(by: ids.count - h, ordering: .relaxed)
        return out
    }

    func cached(_ id: String, in generation: Generation) -> Value? {
        let v = generations.withLock { $0[generation]?[id] }
        (v == nil ? misses : hits).wrappingIncrement(ordering: .relaxed)
        return v
    }

    /// Keeps `values` in `generation`.
    func keep(_ values: some Sequence<(String, Value)>, in generation: Generation) {
        generations.withLock { g in
            if g[generation] == nil, g.count >= maxGenerations { g.removeAll() }
            var known = g.removeValue(forKey: generation) ?? [:]
            for (id, value) in values {
                if known.count >= capacity { known.removeAll(keepingCapacity: true) }
                known[id] = value
            }
            g[generation] = known
        }
    }
}
