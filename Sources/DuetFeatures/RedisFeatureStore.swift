import DuetRedis
import Synchronization

/// The request-path `FeatureReader` over Redis: cache → pipelined `HMGET` → defaults.
///
/// - Each set's `current` pointer is re-read every `pointerRefresh` (250 ms) by a background task,
///   never on the request path (only a set whose version was never learned is asked for by a
///   read, within its budget); all rows of one read come from that one version, and the result
///   says which.
/// - The id lists of catalog sets (`catalogSets`, and any set `entityIDs` was asked for) are kept
///   in memory and loaded by the same task: a new version's pointer is taken only once its id list
///   is loaded, so a whole-catalog request never waits for Redis and never mixes two versions.
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
        /// The most a read waits for Redis before serving defaults (every request shape).
        public var budget: Duration = .milliseconds(5)
        /// Dedicated threads (one connection each).
        public var connections: Int = 4
        /// Jobs queued per thread before reads fail fast.
        public var queueCapacity: Int = 256
        /// Rows held by the in-process cache (0: no cache).
        public var cacheCapacity: Int = 100_000
        /// How often the background task re-reads every set's `current` pointer.
        public var pointerRefresh: Duration = .milliseconds(250)
        /// Socket timeout of one Redis call: a hung Redis frees its thread after this long. Also the
        /// background refresh's deadline.
        public var commandTimeout: Duration = .milliseconds(250)
        public var connectTimeout: Duration = .milliseconds(100)
        /// Sets whose whole id list (`entityIDs`) is loaded from the start and kept current.
        public var catalogSets: [String] = []
        public init() {}
    }

    /// What the background task has learned: one version per set (nil: the set has none in Redis)
    /// and the id lists of catalog sets.
    struct Known: Sendable {
        var versions: [String: String?] = [:]
        var catalogs: [String: (version: String, ids: [String])] = [:]
        var catalogSets: Set<String> = []
    }

    public let url: RedisURL
    public let configuration: Configuration
    private let definitions: [String: FeatureSetDefinition]
    private let setNames: [String]
    private let pool: RedisWorkerPool
    private let cache: FeatureCache
    private let counters = FeatureStoreCounters()
    private let known = Mutex(Known())
    private let refresher = Mutex<Task<Void, Never>?>(nil)

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
        self.setNames = self.definitions.keys.sorted()
        self.cache = FeatureCache(capacity: configuration.cacheCapacity)
        self.pool = try RedisWorkerPool(
            url: self.url, threads: configuration.connections, queueCapacity: configuration.queueCapacity,
            connectTimeout: configuration.connectTimeout, commandTimeout: configuration.commandTimeout)
        known.withLock { $0.catalogSets = Set(configuration.catalogSets) }
        pool.warmUp()
        startRefreshing()
    }

    deinit { shutdown() }

    /// Stops the background refresh and the Redis threads. Reads after this return defaults.
    public func shutdown() {
        refresher.withLock { $0?.cancel(); $0 = nil }
        pool.shutdown()
    }

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
        let versions = await versions(of: setNames, deadline: .now + configuration.budget)
        var out: [String: String] = [:]
        for (n, v) in zip(setNames, versions) { if let v { out[n] = v } }
        return out
    }

    public func currentVersion(set: String) async -> String? {
        if let v = known.withLock({ $0.versions[set] }) { return v }
        return await versions(of: [set], deadline: .now + configuration.budget)[0]
    }

    /// The set's ids at its current version, from memory. The first call for a set that is not a
    /// catalog set yet loads it within the read budget (else answers what it has) and makes it one.
    public func entityIDs(set: String) async -> (version: String, ids: [String]) {
        let (version, cached, tracked) = known.withLock { k -> (String??, (version: String, ids: [String])?, Bool) in
            (k.versions[set], k.catalogs[set], k.catalogSets.contains(set))
        }
        if let version, let cached, cached.version == version { return cached }
        if !tracked { known.withLock { _ = $0.catalogSets.insert(set) } }
        let deadline = ContinuousClock.now + configuration.budget
        guard let v = await versions(of: [set], deadline: deadline)[0] else { return cached ?? ("", []) }
        switch await fetchIDs(set: set, version: v, deadline: deadline) {
        case .success(let ids):
            known.withLock { $0.catalogs[set] = (v, ids) }
            return (v, ids)
        case .failure(let e):
            note(e)
            return cached ?? ("", [])
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

    // MARK: - Versions

    /// The version of each set as learned in the background; a set never learned yet is asked for
    /// now (one pipelined `GET` for all of them, within `deadline`).
    private func versions(of sets: [String], deadline: ContinuousClock.Instant) async -> [String?] {
        var result: [String?] = []
        result.reserveCapacity(sets.count)
        var unknown: [String] = []
        known.withLock { k in
            for s in sets {
                if let v = k.versions[s] { result.append(v) } else {
                    result.append(nil)
                    if !unknown.contains(s) { unknown.append(s) }
                }
            }
        }
        guard !unknown.isEmpty else { return result }
        switch await fetchPointers(unknown, deadline: deadline) {
        case .success(let fetched):
            known.withLock { k in
                for (s, v) in zip(unknown, fetched) where k.versions[s] == nil { k.versions[s] = .some(v) }
            }
            let map = Dictionary(zip(unknown, fetched), uniquingKeysWith: { a, _ in a })
            return zip(sets, result).map { s, r in map[s] ?? r }
        case .failure(let e):
            note(e)
            return result
        }
    }

    private func fetchPointers(_ sets: [String], deadline: ContinuousClock.Instant) async -> Result<[String?], RedisError> {
        let counters = self.counters
        return await pool.run(deadline: deadline) { conn -> [String?] in
            let t0 = ContinuousClock.now
            let replies = try conn.pipeline(sets.map { ["GET", FeatureKeys.current($0)] })
            counters.recordFetch(nanoseconds: Self.nanos(t0.duration(to: .now)))
            return try replies.map {
                if case .error(let e) = $0 { throw RedisError(.command, "GET current failed", cause: e) }
                return $0.text
            }
        }
    }

    private func fetchIDs(set: String, version: String, deadline: ContinuousClock.Instant) async -> Result<[String], RedisError> {
        let counters = self.counters
        return await pool.run(deadline: deadline) { conn -> [String] in
            let t0 = ContinuousClock.now
            var reply = try conn.command(["SMEMBERS", FeatureKeys.ids(set, version)])
            if case .array(let a) = reply, a.isEmpty {
                // A version loaded before the catalog key moved out of the entity keyspace.
                reply = try conn.command(["SMEMBERS", FeatureKeys.legacyIDs(set, version)])
            }
            counters.recordFetch(nanoseconds: Self.nanos(t0.duration(to: .now)))
            if case .error(let e) = reply { throw RedisError(.command, "SMEMBERS failed", cause: e) }
            return Self.sortIDs(reply.array.compactMap(\.text))
        }
    }

    private func startRefreshing() {
        let period = max(configuration.pointerRefresh, .milliseconds(1))
        let task = Task.detached(priority: .medium) { [weak self] in
            while !Task.isCancelled {
                await self?.refresh()
                try? await Task.sleep(for: period)
            }
        }
        refresher.withLock { $0 = task }
    }

    /// One background round: every set's pointer in one pipeline; a catalog set moves to a new
    /// version only once that version's id list is loaded (else it stays on the old one, whole).
    /// A failed round keeps what is known and counts `pointerRefreshFailures`.
    func refresh() async {
        guard !setNames.isEmpty else { return }
        let deadline = ContinuousClock.now + configuration.commandTimeout
        let fetched: [String?]
        switch await fetchPointers(setNames, deadline: deadline) {
        case .success(let v): fetched = v
        case .failure(let e):
            note(e)
            counters.pointerRefreshFailures.wrappingIncrement(ordering: .relaxed)
            return
        }
        let (catalogSets, catalogs) = known.withLock { ($0.catalogSets, $0.catalogs) }
        var loaded: [String: [String]] = [:]
        var failed = false
        for (set, version) in zip(setNames, fetched) {
            guard let version, catalogSets.contains(set), catalogs[set]?.version != version else { continue }
            switch await fetchIDs(set: set, version: version, deadline: ContinuousClock.now + configuration.commandTimeout) {
            case .success(let ids): loaded[set] = ids
            case .failure(let e):
                note(e)
                failed = true
            }
        }
        if failed { counters.pointerRefreshFailures.wrappingIncrement(ordering: .relaxed) }
        known.withLock { k in
            for (set, version) in zip(setNames, fetched) {
                if let version, let ids = loaded[set] { k.catalogs[set] = (version, ids) }
                // Without the new id list a catalog set stays on the version it has whole.
                if let version, k.catalogSets.contains(set), let have = k.catalogs[set], have.version != version { continue }
                k.versions[set] = .some(version)
            }
        }
    }

    private func readSets(_ requests: [(set: String, ids: [String])]) async -> [FeatureReadResult] {
        let now = ContinuousClock.now
        let deadline = now + configuration.budget
        counters.reads.wrappingIncrement(by: requests.count, ordering: .relaxed)
        let versions = await versions(of: requests.map(\.set), deadline: deadline)

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
