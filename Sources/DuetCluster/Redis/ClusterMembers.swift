import DuetRedis
import Foundation

/// Who is in the cluster: each replica writes its heartbeat (a small JSON object: where it listens,
/// the version it serves, when) into `duet:{NAME}:replicas` every second; a replica whose heartbeat
/// is older than `stale` is shown as gone and removed.
public struct ClusterMembers: Sendable {
    public let keys: ClusterKeys
    public let stale: Duration

    public init(keys: ClusterKeys, stale: Duration = .seconds(5)) {
        self.keys = keys
        self.stale = stale
    }

    public struct Heartbeat: Codable, Sendable, Equatable {
        public var replica: String
        public var address: String
        /// The online version it serves.
        public var version: String?
        /// Unix seconds.
        public var at: Double
        public var trainer: Bool

        public init(replica: String, address: String, version: String?, at: Double, trainer: Bool) {
            self.replica = replica
            self.address = address
            self.version = version
            self.at = at
            self.trainer = trainer
        }
    }

    public func beat(_ h: Heartbeat, _ redis: RedisConnection) throws {
        let json = String(decoding: try JSONEncoder().encode(h), as: UTF8.self)
        if case .error(let e) = try redis.command(["HSET", keys.replicas, h.replica, json]) { throw ClusterError("replicas: \(e)") }
    }

    /// The live replicas (by id), dropping those gone stale (as of `now`, Unix seconds).
    public func list(now: Double, _ redis: RedisConnection) throws -> [Heartbeat] {
        let fields = try redis.command(["HGETALL", keys.replicas]).array.compactMap(\.text)
        var live: [Heartbeat] = [], gone: [String] = []
        let limit = Double(stale.components.seconds) + Double(stale.components.attoseconds) / 1e18
        var i = 0
        while i + 1 < fields.count {
            if let h = try? JSONDecoder().decode(Heartbeat.self, from: Data(fields[i + 1].utf8)), now - h.at <= limit {
                live.append(h)
            } else {
                gone.append(fields[i])
            }
            i += 2
        }
        if !gone.isEmpty { _ = try? redis.command(["HDEL", keys.replicas] + gone) }
        return live.sorted { $0.replica < $1.replica }
    }

    /// Leaves (at a graceful shutdown).
    public func leave(_ replica: String, _ redis: RedisConnection) throws {
        _ = try redis.command(["HDEL", keys.replicas, replica])
    }
}
