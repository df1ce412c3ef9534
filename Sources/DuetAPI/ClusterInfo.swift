/// `GET /v1/admin/cluster`: this replica, the trainer, every live replica and the version each
/// serves, the head the trainer published, and the feedback stream. In single-process mode (no
/// `--cluster`) the one process is all of them.
public struct ClusterInfo: Codable, Sendable, Equatable {
    public struct Replica: Codable, Sendable, Equatable {
        public var replica: String
        public var address: String
        /// The online version it serves.
        public var version: String?
        /// Its last heartbeat (Unix seconds).
        public var seenAt: Double
        public var trainer: Bool

        enum CodingKeys: String, CodingKey { case replica, address, version, seenAt = "seen_at", trainer }

        public init(replica: String, address: String, version: String?, seenAt: Double, trainer: Bool) {
            self.replica = replica
            self.address = address
            self.version = version
            self.seenAt = seenAt
            self.trainer = trainer
        }
    }

    public struct Stream: Codable, Sendable, Equatable {
        public var length: Int
        /// The newest entry id.
        public var last: String
        /// What the trainer has read through (on the trainer only).
        public var readThrough: String?

        enum CodingKeys: String, CodingKey { case length, last, readThrough = "read_through" }

        public init(length: Int, last: String, readThrough: String?) {
            self.length = length
            self.last = last
            self.readThrough = readThrough
        }
    }

    /// `cluster` or `single`.
    public var mode: String
    public var cluster: String?
    /// This replica's id.
    public var me: String
    /// The replica holding the trainer lease (nil: none right now).
    public var trainer: String?
    public var leaseToken: Int?
    public var replicas: [Replica]
    /// The online version this replica serves.
    public var version: String?
    /// The newest version the trainer published.
    public var head: String?
    public var stream: Stream?
    /// Versions this replica published (as trainer), applied (from the trainer), and full resyncs.
    public var published: Int
    public var applied: Int
    public var resyncs: Int
    /// The last Redis failure, while it lasts.
    public var redisError: String?

    enum CodingKeys: String, CodingKey {
        case mode, cluster, me = "self", trainer, leaseToken = "lease_token", replicas, version, head, stream, published, applied, resyncs
        case redisError = "redis_error"
    }

    public init(
        mode: String, cluster: String?, me: String, trainer: String?, leaseToken: Int?, replicas: [Replica], version: String?, head: String?,
        stream: Stream?, published: Int, applied: Int, resyncs: Int, redisError: String?
    ) {
        self.mode = mode
        self.cluster = cluster
        self.me = me
        self.trainer = trainer
        self.leaseToken = leaseToken
        self.replicas = replicas
        self.version = version
        self.head = head
        self.stream = stream
        self.published = published
        self.applied = applied
        self.resyncs = resyncs
        self.redisError = redisError
    }
}
