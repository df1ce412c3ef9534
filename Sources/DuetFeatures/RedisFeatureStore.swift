import DuetRedis
import Synchronization

/// The request-path `FeatureReader` over Redis: cache → pipelined `HMGET` → defaults.
///
/// - Each set's `current` pointer is cached and re-read at most every `pointerRefresh` (250 ms);
///   all rows of one read come from that one version, and the result says which.
/// - Redis calls run on a few dedicated threads (`RedisWorkerPool`), never on the caller's
///   thread; a read returns within `budget` (default 5 ms) even when Redis hangs or is down, with
///   the definition's defaults and `degraded = true`.
///
///     let defs = try FeatureSetDefinition.load(directory: "features")
///     let store = try RedisFeatureStore(url: "redis://127.0.0.1:6379", definitions: defs)
///     let r = await store.read(set: "item_catalog", ids: ["1", "2"])
public final class RedisFeatureStore: FeatureReader {
    /// Tuning knobs; every field has a default.
    public struct Configuration: Sendable {
        /// The most a read waits for Redis before serving defaults.
        public var budget: Duration = .milliseconds(5)
        /// Dedicated threads (one connection each).
        public var connections: Int = 4
        /// Jobs queued per thread before reads fail fast.
        public var queueCapacity: Int = 256
        /// Rows held by the in-process cache (0: no cache).
        public var cacheCapacity: Int = 100_000
        /// How often the `current` pointer of a set is re-read.
        public var pointerRefresh: Duration = .milliseconds(250)
        /// Socket timeout of one Redis call: a hung Redis frees its thread after this long.
        public var commandTimeout: Duration = .milliseconds(250)
        public var connectTimeout: Duration = .milliseconds(100)
        /// Budget for `entityIDs` (a whole catalog).
        public var catalogBudget: Duration = .milliseconds(100)
        public init() {}
    }

    struct Pointer: Sendable {
        var version: String?
        var fetched: ContinuousClock.Instant

        func isFresh(at now: ContinuousClock.Instant, refresh: Duration) -> Bool { now - fetched < refresh }
    }

    public let url: RedisURL
    public let configuration: Configuration
    private let definitions: [String: FeatureSetDefinition]
    private let pool: RedisWorkerPool
    private let cache: FeatureCache
    private let counters = FeatureStoreCounters()
    private let pointers = Mutex<[String: Pointer]>([:])
    private let catalogs = Mutex<[String: (version: String, ids: [String])]>([:])

    /// A store reading from `url` (`redis://[:password@]host:port[/db]`). Does not connect yet: a
    /// down Redis at start gives degraded reads, not an error. Throws only for a bad URL.
    public convenience init(url: String, definitions: [FeatureSetDefinition], budget: Duration = .milliseconds(5)) throws {
        var c = Configuration()
        c.budget = budget
        try self.init(url: url, definitions: definitions, configuration: c)
    }

    public init(url: String, definitions: [FeatureSetDefinition], configuration: Configuration) throws {
        self.url = try RedisURL(parsing: url)
        self.configuration = configuration
        self.definitions = Dictionary(definitions.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        self.cache = FeatureCache(capacity: configuration.cacheCapacity)
        self.pool = try RedisWorkerPool(
            url: self.url, threads: configuration.connections, queueCapacity: configuration.queueCapacity,
            connectTimeout: configuration.connectTimeout, commandTimeout: configuration.commandTimeout)
        pool.warmUp()
    }

    deinit { pool.shutdown() }

    /// Stops the Redis threads. Reads after this return defaults.
    public func shutdown() { pool.shutdown() }

    public func metrics() -> FeatureStoreMetrics {
        var m = counters.snapshot()
        m.cacheHits = cache.hits.load(ordering: .relaxed)
        m.cacheMisses = cache.misses.load(ordering: .relaxed)
        return m
    }

    public func read(set: String, ids: [String]) async -> FeatureReadResult {
        await readSets([(set, ids)])[0]
    }

    public func read(user: String, userSet: String, items: [String], itemSet: String) async -> (user: FeatureReadResult, items: FeatureReadResult) {
        let r = await readSets([(userSet, [user]), (itemSet, items)])
        return (r[0], r[1])
    }

    public func currentVersions() async -> [String: String] {
        let names = definitions.keys.sorted()
        let versions = await resolveVersions(names, deadline: .now + configuration.catalogBudget)
        var out: [String: String] = [:]
        for (n, v) in zip(names, versions) { if let v { out[n] = v } }
        return out
    }

    public func currentVersion(set: String) async -> String? {
        let now = ContinuousClock.now
        let refresh = configuration.pointerRefresh
        // A fresh pointer answers without the general path's arrays (this runs twice per request).
        if let fresh = pointers.withLock({ p in p[set].flatMap { $0.isFresh(at: now, refresh: refresh) ? $0.version : nil } }) { return fresh }
        return await resolveVersions([set], deadline: now + configuration.budget)[0]
    }

    public func entityIDs(set: String) async -> (version: String, ids: [String]) {
        let deadline = ContinuousClock.now + configuration.catalogBudget
        guard let version = await resolveVersions([set], deadline: deadline)[0] else {
            return catalogs.withLock { $0[set] } ?? ("", [])
        }
        if let cached = catalogs.withLock({ $0[set] }), cached.version == version { return cached }
        let counters = self.counters
        let r = await pool.run(deadline: deadline) { conn -> [String] in
            let t0 = ContinuousClock.now
            let reply = try conn.command(["SMEMBERS", FeatureKeys.ids(set, version)])
            counters.recordFetch(nanoseconds: Self.nanos(t0.duration(to: .now)))
            if case .error(let e) = reply { throw RedisError(.command, "SMEMBERS failed", cause: e) }
            return Self.sortIDs(reply.array.compactMap(\.text))
        }
        switch r {
        case .success(let ids):
            catalogs.withLock { $0[set] = (version, ids) }
            return (version, ids)
        case .failure(let e):
            note(e)
            return catalogs.withLock { $0[set] } ?? ("", [])
        }
    }

    /// Numeric ids in numeric order, others after them in string order.
    static func sortIDs(_ ids: [String]) -> [String] {
        ids.sorted { a, b in
            switch (Int(a), Int(b)) {
            case let (x?, y?): return x < y
            case (_?, nil): return true
            case (nil, _?): return false
            default: return a < b
            }
        }
    }

    static func nanos(_ d: Duration) -> Int {
        let c = d.components
        return Int(c.seconds) * 1_000_000_000 + Int(c.attoseconds / 1_000_000_000)
    }

    private func note(_ e: RedisError) {
        if e.code == .connection || e.code == .command { counters.redisErrors.wrappingIncrement(ordering: .relaxed) }
    }

    /// The current version of each set: the cached pointer when fresh, else one pipelined GET for all stale ones.
    /// On failure, the last known version (possibly nil); a known one then counts as fresh for one refresh period.
    private func resolveVersions(_ sets: [String], deadline: ContinuousClock.Instant) async -> [String?] {
        let now = ContinuousClock.now
        let refresh = configuration.pointerRefresh
        var result: [String?] = []
        var stale: [String] = []
        pointers.withLock { p in
            for s in sets {
                let ptr = p[s]
                result.append(ptr?.version)
                if ptr?.isFresh(at: now, refresh: refresh) != true, !stale.contains(s) { stale.append(s) }
            }
        }
        guard !stale.isEmpty else { return result }
        let staleSets = stale
        let counters = self.counters
        let r = await pool.run(deadline: deadline) { conn -> [String?] in
            let t0 = ContinuousClock.now
            let replies = try conn.pipeline(staleSets.map { ["GET", FeatureKeys.current($0)] })
            counters.recordFetch(nanoseconds: Self.nanos(t0.duration(to: .now)))
            return try replies.map {
                if case .error(let e) = $0 { throw RedisError(.command, "GET current failed", cause: e) }
                return $0.text
            }
        }
        switch r {
        case .success(let versions):
            let fetched = ContinuousClock.now
            pointers.withLock { p in
                for (s, v) in zip(stale, versions) { p[s] = Pointer(version: v, fetched: fetched) }
            }
            let map = Dictionary(zip(stale, versions), uniquingKeysWith: { a, _ in a })
            return sets.map { s in map[s] ?? result[sets.firstIndex(of: s)!] }
        case .failure(let e):
            note(e)
            // A set with a known version backs off one refresh period: that version serves meanwhile,
            // and a stalled Redis costs one request per period the wait, not every request. A set with
            // none yet is asked again by the next request (it has nothing else to serve).
            counters.pointerRefreshFailures.wrappingIncrement(ordering: .relaxed)
            let failed = ContinuousClock.now
            pointers.withLock { p in
                for s in stale { if let known = p[s]?.version { p[s] = Pointer(version: known, fetched: failed) } }
            }
            return result
        }
    }

    private func readSets(_ requests: [(set: String, ids: [String])]) async -> [FeatureReadResult] {
        let now = ContinuousClock.now
        let deadline = now + configuration.budget
        counters.reads.wrappingIncrement(by: requests.count, ordering: .relaxed)
        let versions = await resolveVersions(requests.map(\.set), deadline: deadline)

        var results: [FeatureReadResult] = []
        // Misses to fetch: (request index, row index, id).
        var missing: [(req: Int, row: Int, key: String)] = []
        var missFields: [[String]] = []
        for (i, req) in requests.enumerated() {
            guard let def = definitions[req.set] else {
                results.append(FeatureReadResult(set: req.set, version: versions[i] ?? "", rows: req.ids.map { FeatureRow(id: $0, values: [:], found: false) }, degraded: true, cacheHits: 0))
                continue
            }
            guard let version = versions[i] else {
                results.append(FeatureReadResult(set: req.set, version: "", rows: req.ids.map { def.defaultRow(id: $0) }, degraded: true, cacheHits: 0))
                continue
            }
            var rows: [FeatureRow] = []
            rows.reserveCapacity(req.ids.count)
            var hits = 0
            for (j, id) in req.ids.enumerated() {
                if let row = cache.get(set: req.set, version: version, id: id, now: now) {
                    rows.append(row)
                    hits += 1
                } else {
                    rows.append(def.defaultRow(id: id))
                    missing.append((i, j, FeatureKeys.row(req.set, version, id)))
                    missFields.append(def.fieldNames)
                }
            }
            results.append(FeatureReadResult(set: req.set, version: version, rows: rows, degraded: false, cacheHits: hits))
        }

        if !missing.isEmpty {
            let keys = missing.map(\.key)
            let fields = missFields
            let counters = self.counters
            let r = await pool.run(deadline: deadline) { conn -> [[String?]] in
                let t0 = ContinuousClock.now
                let replies = try conn.pipeline(zip(keys, fields).map { ["HMGET", $0] + $1 })
                counters.recordFetch(nanoseconds: Self.nanos(t0.duration(to: .now)))
                return try replies.map { reply in
                    if case .error(let e) = reply { throw RedisError(.command, "HMGET failed", cause: e) }
                    return reply.array.map(\.text)
                }
            }
            switch r {
            case .success(let texts):
                for (m, t) in zip(missing, texts) {
                    let set = requests[m.req].set
                    guard let def = definitions[set] else { continue }
                    let row = def.row(id: requests[m.req].ids[m.row], texts: t)
                    results[m.req].rows[m.row] = row
                    cache.put(set: set, version: results[m.req].version, row: row, ttl: def.ttl)
                }
            case .failure(let e):
                note(e)
                for m in missing { results[m.req].degraded = true }
            }
        }
        for r in results where r.degraded { counters.degradedReads.wrappingIncrement(ordering: .relaxed) }
        return results
    }
}
