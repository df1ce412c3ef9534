import DuetRedis
import Foundation

/// Writes and flips feature versions in Redis: `load`, `promote`, `rollback`, `list`, `drop`.
/// Blocking (one hiredis connection): for the CLI and tools, not the request path.
///
///     let admin = try FeatureVersionAdmin(url: "redis://127.0.0.1:6379")
///     let report = try admin.load(snapshot: Snapshot.open(directory: dir))   // writes version, verifies
///     try admin.promote(set: report.set, version: report.version)            // flips `current`
public final class FeatureVersionAdmin {
    private let connection: RedisConnection
    /// Rows per pipelined round trip during `load`.
    public var batchSize = 1000

    public init(url: String, commandTimeout: Duration = .seconds(10)) throws {
        do {
            connection = try RedisConnection(url: try RedisURL(parsing: url), connectTimeout: .seconds(2), commandTimeout: commandTimeout)
        } catch let e as RedisError {
            throw FeatureError(e)
        }
    }

    /// What `load` did.
    public struct LoadReport: Sendable {
        public var set: String
        public var version: String
        public var rows: Int
        public var seconds: Double
        public var rowsPerSecond: Double { seconds > 0 ? Double(rows) / seconds : 0 }
    }

    /// One version of a set as `list` shows it.
    public struct VersionInfo: Sendable, Hashable {
        public var set: String
        public var version: String
        /// Rows (nil for an incomplete version).
        public var rows: Int?
        public var isCurrent: Bool
        public var isPrevious: Bool
        public var complete: Bool
        public var loadedAt: String?
        public var sha256: String?
    }

    @discardableResult
    private func run(_ args: [String]) throws -> RedisValue {
        let r = try connection.command(args)
        if case .error(let e) = r { throw FeatureError(.redis, "\(args[0]) \(args.count > 1 ? args[1] : "") failed", cause: e) }
        return r
    }

    /// Writes `snapshot` as a new version (pipelined batches), then checks the row count in Redis.
    /// Never touches `current`. A version that already exists is refused. On failure the partial
    /// version is deleted (or, if Redis went away, stays listed as incomplete and can be dropped).
    @discardableResult
    public func load(snapshot: Snapshot) throws -> LoadReport {
        let m = snapshot.manifest
        let set = m.set, version = m.version
        let started = ContinuousClock.now
        if try run(["HEXISTS", FeatureKeys.versions(set), version]).integer == 1 {
            throw FeatureError(.conflict, "version \(version) of \(set) already exists in Redis (drop it first)")
        }
        // A leftover of an earlier failed load of this version: clean it before writing.
        if try run(["SISMEMBER", FeatureKeys.incomplete(set), version]).integer == 1 {
            try deleteVersionData(set: set, version: version)
        }
        try run(["SADD", FeatureKeys.incomplete(set), version])
        try run(["SADD", FeatureKeys.sets, set])
        do {
            try writeRows(snapshot)
            try verifyCount(set: set, version: version, expected: m.rows, snapshot: snapshot)
            let loadedAt = ISO8601DateFormatter().string(from: Date())
            let replies = try connection.pipeline([
                ["HSET", FeatureKeys.meta(set, version), "sha256", m.sha256, "loaded_at", loadedAt, "rows", String(m.rows), "fields", m.fields.joined(separator: ",")],
                ["HSET", FeatureKeys.versions(set), version, String(m.rows)],
                ["SREM", FeatureKeys.incomplete(set), version],
            ])
            for r in replies { if case .error(let e) = r { throw FeatureError(.redis, "recording version \(version) failed", cause: e) } }
        } catch {
            try? deleteVersionData(set: set, version: version)
            throw error
        }
        let secs = Double(FeatureCacheClock.nanos(started.duration(to: .now))) / 1e9
        return LoadReport(set: set, version: version, rows: m.rows, seconds: secs)
    }

    private func writeRows(_ snapshot: Snapshot) throws {
        let m = snapshot.manifest
        let prefix = Array("duet:fs:\(m.set):\(m.version):".utf8)
        let idsKey = FeatureKeys.ids(m.set, m.version)
        let fieldBytes = m.fields.map { Array($0.utf8) }
        var enc = RESPEncoder(reserve: 1 << 20)
        var batchIDs: [ArraySlice<UInt8>] = []
        batchIDs.reserveCapacity(batchSize)
        var key: [UInt8] = []
        func flush() throws {
            guard !batchIDs.isEmpty else { return }
            enc.beginCommand(arguments: 2 + batchIDs.count)
            enc.argument("SADD")
            enc.argument(idsKey)
            for id in batchIDs { enc.argument(bytes: id) }
            try connection.pipeline(encoded: &enc) { i, reply in
                if case .error(let e) = reply { throw FeatureError(.redis, "writing \(m.set)@\(m.version) failed (command \(i) of a batch)", cause: e) }
            }
            enc.reset()
            batchIDs.removeAll(keepingCapacity: true)
        }
        try snapshot.forEachRow { id, values in
            // HSET key f1 v1 f2 v2 … (empty values are stored too, so a row always has its fields).
            enc.beginCommand(arguments: 2 + 2 * fieldBytes.count)
            enc.argument("HSET")
            key.removeAll(keepingCapacity: true)
            key.append(contentsOf: prefix)
            key.append(contentsOf: id)
            enc.argument(bytes: key)
            var vi = values.startIndex
            for f in fieldBytes {
                enc.argument(bytes: f)
                enc.argument(bytes: values[vi])
                vi += 1
            }
            batchIDs.append(id)
            if batchIDs.count >= batchSize { try flush() }
        }
        try flush()
    }

    /// Counts the written rows in Redis: SCARD of the id set, and EXISTS over every row key.
    private func verifyCount(set: String, version: String, expected: Int, snapshot: Snapshot) throws {
        let card = try run(["SCARD", FeatureKeys.ids(set, version)]).integer ?? -1
        guard card == expected else {
            throw FeatureError(.invalidSnapshot, "\(set)@\(version): Redis holds \(card) distinct ids, manifest says \(expected) rows (duplicate ids?)")
        }
        var existing = 0
        var enc = RESPEncoder(reserve: 1 << 18)
        var inBatch: [ArraySlice<UInt8>] = []
        let prefix = Array("duet:fs:\(set):\(version):".utf8)
        func flush() throws {
            guard !inBatch.isEmpty else { return }
            enc.beginCommand(arguments: 1 + inBatch.count)
            enc.argument("EXISTS")
            for id in inBatch { enc.argument(bytes: prefix + id) }
            try connection.pipeline(encoded: &enc) { _, reply in
                if case .error(let e) = reply { throw FeatureError(.redis, "EXISTS failed", cause: e) }
                existing += reply.integer ?? 0
            }
            enc.reset()
            inBatch.removeAll(keepingCapacity: true)
        }
        try snapshot.forEachRow { id, _ in
            inBatch.append(id)
            if inBatch.count >= batchSize { try flush() }
        }
        try flush()
        guard existing == expected else {
            throw FeatureError(.redis, "\(set)@\(version): only \(existing) of \(expected) rows are in Redis after the load")
        }
    }

    /// Deletes a version's rows, id set and metadata (not its pointers).
    private func deleteVersionData(set: String, version: String) throws {
        // The id set, and where versions loaded by earlier releases keep it.
        let idsKeys = [FeatureKeys.ids(set, version), FeatureKeys.legacyIDs(set, version)]
        for idsKey in idsKeys {
            var cursor = "0"
            repeat {
                let r = try run(["SSCAN", idsKey, cursor, "COUNT", "1000"]).array
                guard r.count == 2 else { break }
                cursor = r[0].text ?? "0"
                let ids = r[1].array.compactMap(\.text)
                if !ids.isEmpty { try run(["UNLINK"] + ids.map { FeatureKeys.row(set, version, $0) }) }
            } while cursor != "0"
        }
        try run(["DEL"] + idsKeys + [FeatureKeys.meta(set, version)])
        try run(["HDEL", FeatureKeys.versions(set), version])
        try run(["SREM", FeatureKeys.incomplete(set), version])
    }

    /// Flips `current` to `version` (which must be a complete version) atomically, remembers the old
    /// one as `previous`, and publishes `promote {version}` on `duet:fs:{set}:events`.
    /// Returns the version that was current before (nil if none).
    @discardableResult
    public func promote(set: String, version: String) throws -> String? {
        let script = """
            if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return redis.error_reply('NOVERSION') end
            local old = redis.call('GET', KEYS[2])
            if old ~= ARGV[1] then
              if old then redis.call('SET', KEYS[3], old) end
              redis.call('SET', KEYS[2], ARGV[1])
              redis.call('PUBLISH', KEYS[4], 'promote ' .. ARGV[1])
            end
            return old
            """
        let r = try connection.command(["EVAL", script, "4", FeatureKeys.versions(set), FeatureKeys.current(set), FeatureKeys.previous(set), FeatureKeys.events(set), version])
        if case .error(let e) = r {
            if e.contains("NOVERSION") { throw FeatureError(.notFound, "\(set) has no complete version \(version) in Redis (load it first)") }
            throw FeatureError(.redis, "promote \(set) \(version) failed", cause: e)
        }
        return r.text
    }

    /// Flips `current` back to `previous` (and `previous` to the old current), atomically. Returns (from, to).
    @discardableResult
    public func rollback(set: String) throws -> (from: String, to: String) {
        let script = """
            local prev = redis.call('GET', KEYS[2])
            if not prev then return redis.error_reply('NOPREVIOUS') end
            if redis.call('HEXISTS', KEYS[3], prev) == 0 then return redis.error_reply('GONE ' .. prev) end
            local cur = redis.call('GET', KEYS[1])
            redis.call('SET', KEYS[1], prev)
            if cur then redis.call('SET', KEYS[2], cur) else redis.call('DEL', KEYS[2]) end
            redis.call('PUBLISH', KEYS[4], 'rollback ' .. prev)
            return {cur or '', prev}
            """
        let r = try connection.command(["EVAL", script, "4", FeatureKeys.current(set), FeatureKeys.previous(set), FeatureKeys.versions(set), FeatureKeys.events(set)])
        if case .error(let e) = r {
            if e.contains("NOPREVIOUS") { throw FeatureError(.notFound, "\(set) has no previous version to roll back to") }
            if e.contains("GONE") { throw FeatureError(.notFound, "\(set): previous version \(e.split(separator: " ").last ?? "") was dropped") }
            throw FeatureError(.redis, "rollback \(set) failed", cause: e)
        }
        let a = r.array.map { $0.text ?? "" }
        return (a.first ?? "", a.count > 1 ? a[1] : "")
    }

    /// Every version of every set (or of `set`), sorted by set then version.
    public func list(set: String? = nil) throws -> [VersionInfo] {
        let sets = try set.map { [$0] } ?? run(["SMEMBERS", FeatureKeys.sets]).array.compactMap(\.text).sorted()
        var out: [VersionInfo] = []
        for s in sets {
            let r = try connection.pipeline([
                ["HGETALL", FeatureKeys.versions(s)], ["GET", FeatureKeys.current(s)], ["GET", FeatureKeys.previous(s)],
                ["SMEMBERS", FeatureKeys.incomplete(s)],
            ])
            let pairs = r[0].array.compactMap(\.text)
            let current = r[1].text, previous = r[2].text
            var infos: [VersionInfo] = []
            for i in stride(from: 0, to: pairs.count - 1, by: 2) {
                infos.append(VersionInfo(set: s, version: pairs[i], rows: Int(pairs[i + 1]), isCurrent: pairs[i] == current, isPrevious: pairs[i] == previous, complete: true))
            }
            for v in r[3].array.compactMap(\.text) {
                infos.append(VersionInfo(set: s, version: v, rows: nil, isCurrent: v == current, isPrevious: v == previous, complete: false))
            }
            let metas = try connection.pipeline(infos.map { ["HMGET", FeatureKeys.meta(s, $0.version), "loaded_at", "sha256"] })
            for (i, m) in metas.enumerated() {
                infos[i].loadedAt = m.array.first?.text
                infos[i].sha256 = m.array.count > 1 ? m.array[1].text : nil
            }
            out += infos.sorted { $0.version.compare($1.version, options: .numeric) == .orderedAscending }
        }
        return out
    }

    /// The current version of `set` (nil if none).
    public func current(set: String) throws -> String? {
        try run(["GET", FeatureKeys.current(set)]).text
    }

    /// Removes a version that is not current (complete or left incomplete by a failed load).
    public func drop(set: String, version: String) throws {
        if try current(set: set) == version {
            throw FeatureError(.conflict, "\(version) is the current version of \(set): promote another version first")
        }
        let known = try connection.pipeline([["HEXISTS", FeatureKeys.versions(set), version], ["SISMEMBER", FeatureKeys.incomplete(set), version]])
        guard known.contains(where: { $0.integer == 1 }) else {
            throw FeatureError(.notFound, "\(set) has no version \(version) in Redis")
        }
        // Take it out of the catalog first, so a promote cannot pick it half-deleted.
        try run(["HDEL", FeatureKeys.versions(set), version])
        try run(["SADD", FeatureKeys.incomplete(set), version])
        try deleteVersionData(set: set, version: version)
        if try run(["GET", FeatureKeys.previous(set)]).text == version {
            try run(["DEL", FeatureKeys.previous(set)])
        }
    }
}

enum FeatureCacheClock {
    static func nanos(_ d: Duration) -> Int {
        let c = d.components
        return Int(c.seconds) * 1_000_000_000 + Int(c.attoseconds / 1_000_000_000)
    }
}
