import DuetRedis

/// An experiment's statistics across the cluster (per key and revision):
/// - each replica's own counters and mergeable sequences (requests, feedback, clicks, log loss, the
///   confidence sequences, the off-policy estimators; opaque JSON, the server's) in the hash
///   `duet:{NAME}:stats:KEY:REV`, one field per replica, refreshed every second;
/// - its distinct users counted once across all replicas: one Bloom filter (a Redis bitmap of the
///   same size and probes as the server's `SeenUsers`) and per-arm counts of the users it had not
///   seen (`duet:{NAME}:users:KEY:REV`), updated by one script per counted request, so a user who
///   reaches two replicas counts once, as in one process.
public struct ExperimentCounts: Sendable {
    public let keys: ClusterKeys
    /// How long the keys of a revision stay after its last update.
    public static let ttlSeconds = 7 * 86_400

    public init(keys: ClusterKeys) { self.keys = keys }

    func stats(_ key: String, _ revision: Int) -> String { keys.name(for: "stats:\(key.utf8.count):\(key):\(revision)") }
    func users(_ key: String, _ revision: Int) -> String { keys.name(for: "users:\(key.utf8.count):\(key):\(revision)") }
    func seen(_ key: String, _ revision: Int) -> String { keys.name(for: "seen:\(key.utf8.count):\(key):\(revision)") }

    static let servedScript = """
        local new = 0
        for i = 2, #ARGV do
          if redis.call('SETBIT', KEYS[1], ARGV[i], 1) == 0 then new = 1 end
        end
        if new == 1 then redis.call('HINCRBY', KEYS[2], ARGV[1], 1) end
        return new
        """

    /// Appends to a pipeline: a counted request of `arm` by the user whose filter bits are `bits`.
    public func served(key: String, revision: Int, arm: Int, bits: [Int], into encoder: inout RESPEncoder) {
        encoder.command(["EVAL", Self.servedScript, "2", seen(key, revision), users(key, revision), String(arm)] + bits.map(String.init))
    }

    /// Writes this replica's statistics of (`key`, `revision`).
    public func publish(key: String, revision: Int, replica: String, json: String, _ redis: RedisConnection) throws {
        let hash = stats(key, revision)
        let replies = try redis.pipeline([
            ["HSET", hash, replica, json], ["EXPIRE", hash, String(Self.ttlSeconds)],
            ["EXPIRE", users(key, revision), String(Self.ttlSeconds)], ["EXPIRE", seen(key, revision), String(Self.ttlSeconds)],
        ])
        if case .error(let e) = replies[0] { throw ClusterError("experiment counts: \(e)") }
    }

    /// Every replica's statistics (replica → JSON) and the distinct users per arm.
    public func read(key: String, revision: Int, _ redis: RedisConnection) throws -> (replicas: [String: String], users: [Int: Int]) {
        let replies = try redis.pipeline([["HGETALL", stats(key, revision)], ["HGETALL", users(key, revision)]])
        func pairs(_ v: RedisValue) -> [(String, String)] {
            let flat = v.array.compactMap(\.text)
            return stride(from: 0, to: flat.count - 1, by: 2).map { (flat[$0], flat[$0 + 1]) }
        }
        var users: [Int: Int] = [:]
        for (arm, n) in pairs(replies[1]) { if let a = Int(arm), let c = Int(n) { users[a] = c } }
        return (Dictionary(pairs(replies[0]), uniquingKeysWith: { $1 }), users)
    }
}
