/// The rows of one read: all from one version of one feature set.
public struct FeatureReadResult: Sendable {
    /// The feature set.
    public var set: String
    /// The version every row came from ("" when none is known, e.g. Redis down before the first read).
    public var version: String
    /// One row per requested id, in request order.
    public var rows: [FeatureRow]
    /// True when some rows are defaults because the store was down, slow or had no current version.
    public var degraded: Bool
    /// How many rows came from the in-process cache.
    public var cacheHits: Int

    public init(set: String, version: String, rows: [FeatureRow], degraded: Bool, cacheHits: Int) {
        self.set = set
        self.version = version
        self.rows = rows
        self.degraded = degraded
        self.cacheHits = cacheHits
    }
}
