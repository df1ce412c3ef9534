import DuetRedis

/// An experiment's statistics across the cluster (per key and revision):
/// - each replica's own counters and mergeable sequences (requests, feedback, clicks, log loss, the
///   confidence sequences, the off-policy estimators; opaque JSON, the server's) in the hash
///   `duet:{NAME}:stats:KEY:REV`, one field per replica, refreshed every second;
/// - its distinct users counted once across all replicas: one Bloom filter (a Redis bitmap of the
///   same size and probes as the server's `SeenUsers`) and per-arm counts of the users it had not
///   seen (`duet:{NAME}:users:KEY:REV`): a replica sets the bits of the users it counts for the first
///   time with one `BITFIELD` per batch and adds those whose bits were not all set, so a user who
///   reaches two replicas counts once, as in one process.
public struct ExperimentCounts: Sendable {
    public let keys: ClusterKeys
    /// How long the keys of a revision stay after its last update.
    public static let ttlSeconds = 7 * 86_400

    public init(keys: ClusterKeys) { self.keys = keys }

    func stats(_ key: String, _ revision: Int) -> String { keys.name(for: "stats:\(key.utf8.count):\(key):\(revision)") }
    func users(_ key: String, _ revision: Int) -> String { keys.name(for: "users:\(key.utf8.count):\(key):\(revision)") }
    func seen(_ key: String, _ revision: Int) -> String { keys.name(for: "seen:\(key.utf8.count):\(key):\(revision)") }

    /// Appends to a pipeline: one `BITFIELD` that sets the filter bits of users counted for the first
    /// time on this replica in (`key`, `revision`) (`probes` bits each, in order) and answers their old
    /// values. One command is atomic, so of two replicas that send the same user, only the first finds
    /// a bit unset. Read the reply with `newUsers`, then count them with `count`. (A Lua script doing
    /// both cost Redis about 20 times the CPU per user: BENCHMARKS.md, Cluster mode.)
    public func markSeen(key: String, revision: Int, bits: [[Int]], into encoder: inout RESPEncoder) {
        encoder.beginCommand(arguments: 2 + 4 * bits.reduce(0) { $0 + $1.count })
        encoder.argument("BITFIELD")
        encoder.argument(seen(key, revision))
        for user in bits {
            for b in user {
                encoder.argument("SET")
                encoder.argument("u1")
                encoder.argument(String(b))
                encoder.argument("1")
            }
        }
    }

    /// Which users of a `markSeen` were new (one of their bits was unset), from its reply; nil for a
    /// reply of another shape.
    public static func newUsers(_ reply: RedisValue, probes: Int) -> [Bool]? {
        guard case .array(let old) = reply, probes > 0, old.count % probes == 0 else { return nil }
        var out: [Bool] = []
        out.reserveCapacity(old.count / probes)
        for start in stride(from: 0, to: old.count, by: probes) {
            var new = false
            for v in old[start..<start + probes] {
                guard let bit = v.integer else { return nil }
                if bit == 0 { new = true }
            }
            out.append(new)
        }
        return out
    }

    /// Appends to a pipeline: `n` more distinct users in each arm of (`key`, `revision`).
    public func count(key: String, revision: Int, newUsersPerArm: [Int: Int], into encoder: inout RESPEncoder) {
        for (arm, n) in newUsersPerArm.sorted(by: { $0.key < $1.key }) where n > 0 {
            encoder.command(["HINCRBY", users(key, revision), String(arm), String(n)])
        }
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
