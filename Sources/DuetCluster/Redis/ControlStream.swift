import DuetRedis

/// The control stream (`duet:{NAME}:control`): every change an operator (or the guardrail) makes on
/// one replica that all must make — experiment applies and reverts, model rollbacks — as one entry
/// each, in order. Every replica reads it from the last entry it applied (saved in its data
/// directory) and applies each change. Entries are opaque text (the server's JSON), in field `c`.
public struct ControlStream: Sendable {
    public let keys: ClusterKeys
    /// About how many changes the stream keeps (`MAXLEN ~`); a replica that was away longer misses
    /// the older ones.
    public let kept: Int

    public init(keys: ClusterKeys, kept: Int = 10_000) {
        self.keys = keys
        self.kept = kept
    }

    public struct Entry: Sendable {
        public var id: String
        public var change: String
    }

    /// Appends `change`; returns its entry id.
    public func append(_ change: String, _ redis: RedisConnection) throws -> String {
        let reply = try redis.command(["XADD", keys.control, "MAXLEN", "~", String(kept), "*", "c", change])
        if case .error(let e) = reply { throw ClusterError("control stream: \(e)") }
        guard let id = reply.text else { throw ClusterError("control stream: unexpected reply \(reply)") }
        return id
    }

    /// Entries after `position`, waiting up to `block` for one.
    public func read(after position: String, block: Duration, _ redis: RedisConnection) throws -> [Entry] {
        let reply = try redis.command(["XREAD", "COUNT", "100", "BLOCK", String(block.milliseconds), "STREAMS", keys.control, position])
        if case .error(let e) = reply { throw ClusterError("control stream: \(e)") }
        return StreamReply.entries(reply).compactMap { e in e.fields["c"].map { Entry(id: e.id, change: $0) } }
    }
}
