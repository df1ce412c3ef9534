/// Reads features for the request path: one version per set per read, never throws, bounded in time.
///
///     let store = try RedisFeatureStore(url: "redis://127.0.0.1:6379", definitions: defs)
///     let (user, items) = await store.read(user: "u42", userSet: "user_profile", items: ["3", "7"], itemSet: "item_catalog")
///     // user.version, items.version, items.degraded
public protocol FeatureReader: Sendable {
    /// The rows of `ids` in `set`, all at the set's current version. Never throws; within the store's budget.
    func read(set: String, ids: [String]) async -> FeatureReadResult
    /// One user and many items in one round trip.
    func read(user: String, userSet: String, items: [String], itemSet: String) async -> (user: FeatureReadResult, items: FeatureReadResult)
    /// Every entity id of `set` at its current version (e.g. the whole item catalog, to rank when a request has no candidates).
    func entityIDs(set: String) async -> (version: String, ids: [String])
    /// Set name → current version, for the status page.
    func currentVersions() async -> [String: String]
    /// The version a read of `set` would use now (nil: none known). Cheap: a cached pointer.
    func currentVersion(set: String) async -> String?
    /// Counters for metrics.
    func metrics() -> FeatureStoreMetrics
}

extension FeatureReader {
    public func currentVersion(set: String) async -> String? {
        await currentVersions()[set]
    }

    public func read(user: String, userSet: String, items: [String], itemSet: String) async -> (user: FeatureReadResult, items: FeatureReadResult) {
        async let u = read(set: userSet, ids: [user])
        async let i = read(set: itemSet, ids: items)
        return await (u, i)
    }
}
