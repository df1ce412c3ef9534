import Atomics

/// Lock-free counters behind `FeatureStoreMetrics` (no allocation on the hot path).
final class FeatureStoreCounters: Sendable {
    static let bounds: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, .infinity]

    let cacheHits = ManagedAtomic<Int>(0)
    let cacheMisses = ManagedAtomic<Int>(0)
    let redisErrors = ManagedAtomic<Int>(0)
    let degradedReads = ManagedAtomic<Int>(0)
    let pointerRefreshFailures = ManagedAtomic<Int>(0)
    let reads = ManagedAtomic<Int>(0)
    let fetchCount = ManagedAtomic<Int>(0)
    let fetchNanos = ManagedAtomic<Int>(0)
    let buckets: [ManagedAtomic<Int>] = FeatureStoreCounters.bounds.map { _ in ManagedAtomic<Int>(0) }

    func recordFetch(nanoseconds: Int) {
        fetchCount.wrappingIncrement(ordering: .relaxed)
        fetchNanos.wrappingIncrement(by: nanoseconds, ordering: .relaxed)
        let seconds = Double(nanoseconds) / 1e9
        for (i, b) in Self.bounds.enumerated() where seconds <= b {
            buckets[i].wrappingIncrement(ordering: .relaxed)
            return
        }
    }

    func snapshot() -> FeatureStoreMetrics {
        var m = FeatureStoreMetrics()
        m.cacheHits = cacheHits.load(ordering: .relaxed)
        m.cacheMisses = cacheMisses.load(ordering: .relaxed)
        m.redisErrors = redisErrors.load(ordering: .relaxed)
        m.degradedReads = degradedReads.load(ordering: .relaxed)
        m.pointerRefreshFailures = pointerRefreshFailures.load(ordering: .relaxed)
        m.reads = reads.load(ordering: .relaxed)
        m.fetchCount = fetchCount.load(ordering: .relaxed)
        m.fetchSecondsSum = Double(fetchNanos.load(ordering: .relaxed)) / 1e9
        var cumulative = 0
        m.fetchLatencyBuckets = zip(Self.bounds, buckets).map { bound, c in
            cumulative += c.load(ordering: .relaxed)
            return .init(upperBound: bound, count: cumulative)
        }
        return m
    }
}
