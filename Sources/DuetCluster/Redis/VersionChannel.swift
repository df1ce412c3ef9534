import DuetRedis
import Foundation

/// How the trainer's model versions reach every replica: the newest full snapshot
/// (`duet:{NAME}:snapshot`), each later version as a delta from its parent (`duet:{NAME}:delta:ID`,
/// with a TTL), the head (`duet:{NAME}:head`), and one entry per version on the announcement stream
/// (`duet:{NAME}:versions`, capped), also `PUBLISH`ed on `duet:{NAME}:events`.
///
/// Replicas follow the announcement *stream* (`XREAD BLOCK` from the last entry they applied) rather
/// than the pub/sub channel: a replica that was disconnected reads what it missed, where pub/sub
/// would have dropped it. A replica that cannot apply a delta (it lacks the parent) starts again from
/// the snapshot and the deltas announced after it.
///
/// Every publication is fenced: one script checks that the lease still holds the publisher's
/// `REPLICA TOKEN` before it writes anything.
public struct VersionChannel: Sendable {
    public let keys: ClusterKeys
    /// How many announcements the stream keeps (about; `MAXLEN ~`).
    public let announcementsKept: Int
    /// How long a delta stays readable (a replica further behind resyncs from the snapshot).
    public let deltaTTL: Duration

    public init(keys: ClusterKeys, announcementsKept: Int = 2000, deltaTTL: Duration = .seconds(600)) {
        self.keys = keys
        self.announcementsKept = announcementsKept
        self.deltaTTL = deltaTTL
    }

    /// A full snapshot, a delta from its parent, or a point back to a version announced since the
    /// last snapshot (a rollback: every replica keeps that version already).
    public enum Kind: String, Sendable { case snapshot, delta, point }

    /// One announced version.
    public struct Announcement: Sendable, Equatable {
        /// The announcement's entry id.
        public var entry: String
        public var kind: Kind
        public var id: String
        /// The version a delta applies to (for a snapshot: the parent of the delta it carries, or empty).
        public var parent: String
        /// The feedback-stream entry the version has learned through.
        public var position: String
        /// The fencing token it was published under.
        public var token: Int
        /// Why it was published (`learned`, `rollback`, `resync`…).
        public var reason: String
    }

    /// The newest version, and the newest snapshot's announcement entry.
    public struct Head: Sendable, Equatable {
        public var id: String
        public var position: String
        public var snapshot: String
        public var snapshotEntry: String
    }

    static let publishScript = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('FENCED the lease is not held by ' .. ARGV[1]) end
        local entry
        if ARGV[2] == 'snapshot' then
          if redis.call('EXISTS', KEYS[6]) == 0 then return redis.error_reply('publish: the staged snapshot is gone') end
          redis.call('RENAME', KEYS[6], KEYS[3])
          redis.call('PERSIST', KEYS[3])
          if ARGV[12] ~= '' then redis.call('SET', KEYS[4], ARGV[12], 'PX', ARGV[7]) end
          entry = redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[8], '*', 'kind', 'snapshot', 'id', ARGV[3], 'parent', ARGV[4], 'position', ARGV[5], 'token', ARGV[9], 'reason', ARGV[10])
          redis.call('HSET', KEYS[2], 'id', ARGV[3], 'position', ARGV[5], 'snapshot', ARGV[3], 'snapshot_entry', entry)
        elseif ARGV[2] == 'point' then
          if redis.call('EXISTS', KEYS[3]) == 0 then return redis.error_reply('NOSNAPSHOT no snapshot to point into (Redis lost its data?)') end
          entry = redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[8], '*', 'kind', 'point', 'id', ARGV[3], 'parent', ARGV[4], 'position', ARGV[5], 'token', ARGV[9], 'reason', ARGV[10])
          redis.call('HSET', KEYS[2], 'id', ARGV[3], 'position', ARGV[5])
        else
          if redis.call('EXISTS', KEYS[3]) == 0 then return redis.error_reply('NOSNAPSHOT no snapshot to apply deltas to (Redis lost its data?)') end
          redis.call('SET', KEYS[4], ARGV[6], 'PX', ARGV[7])
          entry = redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[8], '*', 'kind', 'delta', 'id', ARGV[3], 'parent', ARGV[4], 'position', ARGV[5], 'token', ARGV[9], 'reason', ARGV[10])
          redis.call('HSET', KEYS[2], 'id', ARGV[3], 'position', ARGV[5])
        end
        redis.call('PUBLISH', ARGV[11], ARGV[2] .. ' ' .. ARGV[3])
        return entry
        """

    /// Publishes version `id` (a snapshot, a delta from `parent`, or a point back to it) fenced by `lease`; returns its
    /// announcement entry. Throws `ClusterError` starting "FENCED" when the lease is not `lease`, and
    /// "NOSNAPSHOT" for a delta when there is no snapshot (Redis restarted without its data): publish
    /// a snapshot then.
    ///
    /// A snapshot may carry `delta`, the same version as a delta from `parent`: a replica that serves
    /// `parent` applies the delta (kilobytes) instead of reading the snapshot (tens of megabytes).
    public func publish(
        kind: Kind, id: String, parent: String, position: String, bytes: [UInt8], delta: [UInt8]? = nil, lease: TrainerLease.Holder,
        reason: String, _ redis: RedisConnection
    ) throws -> String {
        precondition(delta == nil || (kind == .snapshot && !parent.isEmpty), "a snapshot's delta needs its parent")
        let ttl = max(1, deltaTTL.milliseconds)
        let staged = keys.name(for: "snapshot-staged:\(lease.token)")
        if kind == .snapshot { try stage(bytes, at: staged, redis) }
        let reply = try redis.command([
            "EVAL", Self.publishScript, "6", keys.lease, keys.head, keys.snapshot, keys.delta(id), keys.versions, staged,
            lease.value, kind.rawValue, id, parent, position, kind == .snapshot ? "" : Data(bytes).base64EncodedString(), String(ttl),
            String(announcementsKept), String(lease.token), reason, keys.events, delta.map { Data($0).base64EncodedString() } ?? "",
        ])
        if case .error(let e) = reply { throw ClusterError(e.hasPrefix("FENCED") || e.hasPrefix("NOSNAPSHOT") ? e : "publish: \(e)") }
        guard let entry = reply.text else { throw ClusterError("publish: unexpected reply \(reply)") }
        return entry
    }

    /// How much of a snapshot one command carries while it is staged.
    static let stagingChunk = 1 << 20

    /// Writes a snapshot's base64 to `key` in 1 MiB pieces (with a one-minute TTL, so a trainer that
    /// dies or is fenced off before publishing leaves nothing for long): Redis serves the other
    /// replicas between two pieces, where one 56 MB argument (or a script holding it) would keep it
    /// busy for the whole copy (143 ms measured). The last piece goes first, at its offset, so Redis
    /// allocates the whole string once; the others are written in place (`SETRANGE`; appending
    /// would reallocate and copy the growing string each time). The publication script then renames
    /// it into place, fenced.
    func stage(_ bytes: [UInt8], at key: String, _ redis: RedisConnection) throws {
        let text = Array(Data(bytes).base64EncodedString().utf8)
        let starts = Array(stride(from: 0, to: max(text.count, 1), by: Self.stagingChunk))
        var encoder = RESPEncoder(reserve: min(text.count, Self.stagingChunk) + 256)
        for (n, start) in ([starts.last!] + starts.dropLast()).enumerated() {
            let end = min(text.count, start + Self.stagingChunk)
            encoder.reset()
            // Not over what an earlier, failed attempt left (SETRANGE does not truncate).
            if n == 0 { encoder.command(["DEL", key]) }
            encoder.beginCommand(arguments: 4)
            for a in ["SETRANGE", key, String(start)] { encoder.argument(a) }
            encoder.argument(bytes: text[start..<end])
            if n == 0 { encoder.command(["PEXPIRE", key, "60000"]) }
            try redis.pipeline(encoded: &encoder) { _, reply in
                if case .error(let e) = reply { throw ClusterError("publish: staging the snapshot: \(e)") }
            }
        }
    }

    /// The head, or nil before the first publication.
    public func head(_ redis: RedisConnection) throws -> Head? {
        let fields = try redis.command(["HGETALL", keys.head]).array.compactMap(\.text)
        var h: [String: String] = [:]
        var i = 0
        while i + 1 < fields.count { h[fields[i]] = fields[i + 1]; i += 2 }
        guard let id = h["id"], let position = h["position"], let snapshot = h["snapshot"], let entry = h["snapshot_entry"] else { return nil }
        return Head(id: id, position: position, snapshot: snapshot, snapshotEntry: entry)
    }

    /// The newest snapshot's bytes (a model file), or nil.
    public func snapshot(_ redis: RedisConnection) throws -> [UInt8]? {
        try redis.command(["GET", keys.snapshot]).text.flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) }
    }

    /// The delta that made version `id`, or nil when it expired (or never was one).
    public func delta(_ id: String, _ redis: RedisConnection) throws -> [UInt8]? {
        try redis.command(["GET", keys.delta(id)]).text.flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) }
    }

    /// Announcements after entry `after` (`0-0`: all kept), waiting up to `block` for one (nil: do
    /// not wait).
    public func announcements(after: String, count: Int = 1000, block: Duration?, _ redis: RedisConnection) throws -> [Announcement] {
        var args = ["XREAD", "COUNT", String(count)]
        if let block { args += ["BLOCK", String(block.milliseconds)] }
        let reply = try redis.command(args + ["STREAMS", keys.versions, after])
        if case .error(let e) = reply { throw ClusterError("announcements: \(e)") }
        return StreamReply.entries(reply).compactMap { e in
            let f = e.fields
            guard let kind = f["kind"].flatMap(Kind.init(rawValue:)), let id = f["id"] else { return nil }
            return Announcement(
                entry: e.id, kind: kind, id: id, parent: f["parent"] ?? "", position: f["position"] ?? "0-0",
                token: Int(f["token"] ?? "") ?? 0, reason: f["reason"] ?? "")
        }
    }
}
