/// A snapshot of a feature store's counters, polled by the server for `/metrics`.
public struct FeatureStoreMetrics: Sendable, Hashable {
    /// Rows served from the in-process cache.
    public var cacheHits: Int = 0
    /// Rows not in the cache (fetched from the store, or defaulted).
    public var cacheMisses: Int = 0
    /// Redis round trips that failed (connection refused, I/O error, error reply).
    public var redisErrors: Int = 0
    /// Reads that returned defaults (budget exceeded, Redis down, no current version).
    public var degradedReads: Int = 0
    /// Reads of the sets' `current` pointers that failed (each backs the pointer off one refresh period).
    public var pointerRefreshFailures: Int = 0
    /// All reads.
    public var reads: Int = 0
    /// Round trips to the store that were timed (fetch latency), with their total seconds.
    public var fetchCount: Int = 0
    public var fetchSecondsSum: Double = 0
    /// Cumulative histogram of fetch latency: `(upper bound in seconds, count ≤ bound)`; the last bound is +inf.
    public var fetchLatencyBuckets: [FetchBucket] = []

    /// One cumulative histogram bucket.
    public struct FetchBucket: Sendable, Hashable {
        public var upperBound: Double
        public var count: Int
    }

    public init() {}
}
