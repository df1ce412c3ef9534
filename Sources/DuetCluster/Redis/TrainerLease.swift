import DuetRedis

/// The trainer lease: one replica at a time holds `duet:{NAME}:lease` (`SET NX PX`), renews it well
/// inside its TTL, and writes with its fencing token: every publication checks, atomically in Redis,
/// that the lease still holds `REPLICA TOKEN` (`VersionChannel.publish`), so a trainer that lost the
/// lease (paused, partitioned) cannot publish over its successor. Tokens come from one counter and
/// only grow.
public struct TrainerLease: Sendable {
    public let keys: ClusterKeys
    public let replica: String
    /// The lease's time to live; the holder renews every third of it.
    public let ttl: Duration

    public init(keys: ClusterKeys, replica: String, ttl: Duration) {
        self.keys = keys
        self.replica = replica
        self.ttl = ttl
    }

    /// Who holds the lease now.
    public struct Holder: Sendable, Equatable {
        public var replica: String
        public var token: Int
        /// The value the lease key holds: what a publication is fenced by.
        public var value: String { "\(replica) \(token)" }
    }

    var milliseconds: String { String(max(1, ttl.milliseconds)) }

    static let acquireScript = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return false end
        local token = redis.call('INCR', KEYS[2])
        redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. token, 'PX', ARGV[2])
        return token
        """

    static let renewScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
        return 0
        """

    /// Takes the lease when nobody holds it: the new holder (this replica, a fresh token), else nil.
    public func acquire(_ redis: RedisConnection) throws -> Holder? {
        let reply = try redis.command(["EVAL", Self.acquireScript, "2", keys.lease, keys.fence, replica, milliseconds])
        if case .error(let e) = reply { throw ClusterError("lease: \(e)") }
        guard let token = reply.integer else { return nil }
        return Holder(replica: replica, token: token)
    }

    /// Extends the lease `held`; false when it is no longer ours (expired, taken by another).
    public func renew(_ held: Holder, _ redis: RedisConnection) throws -> Bool {
        let reply = try redis.command(["EVAL", Self.renewScript, "1", keys.lease, held.value, milliseconds])
        if case .error(let e) = reply { throw ClusterError("lease: \(e)") }
        return reply.integer == 1
    }

    /// Gives the lease up (at a graceful shutdown), when it is still ours.
    public func release(_ held: Holder, _ redis: RedisConnection) throws {
        _ = try redis.command(["EVAL", "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", "1", keys.lease, held.value])
    }

    /// The current holder, if any.
    public func holder(_ redis: RedisConnection) throws -> Holder? {
        guard let text = try redis.command(["GET", keys.lease]).text else { return nil }
        let parts = text.split(separator: " ")
        guard parts.count == 2, let token = Int(parts[1]) else { return nil }
        return Holder(replica: String(parts[0]), token: token)
    }
}
