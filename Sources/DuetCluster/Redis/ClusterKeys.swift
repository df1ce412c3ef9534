/// The Redis keys of one cluster, all under the hash tag `{NAME}` so they live in one Redis Cluster
/// slot (the Lua scripts touch several at once).
///
///     duet:{NAME}:lease          the trainer lease: "REPLICA TOKEN", with a TTL (SET NX PX)
///     duet:{NAME}:fence          the fencing-token counter (INCR)
///     duet:{NAME}:feedback       the feedback stream (XADD; the trainer reads it in order)
///     duet:{NAME}:consumed:R:I   feedback taken for request R, item I (SET NX, with the impression TTL)
///     duet:{NAME}:impression:R   a served request's impression, for a join on any replica
///     duet:{NAME}:versions       the announcement stream: one entry per published version
///     duet:{NAME}:head           the newest version (hash: id, position, snapshot, snapshot_entry)
///     duet:{NAME}:snapshot       the newest full snapshot (a model file, base64)
///     duet:{NAME}:delta:ID       version ID as a delta from its parent (base64), with a TTL
///     duet:{NAME}:control        the control stream: experiment applies and reverts, rollbacks
///     duet:{NAME}:replicas       replica id → its heartbeat (JSON)
///     duet:{NAME}:stats|users|seen:…  an experiment revision's statistics (`ExperimentCounts`)
///     duet:{NAME}:events         the pub/sub channel that also announces each version
public struct ClusterKeys: Sendable, Equatable {
    public let name: String
    let prefix: String

    /// `name`: letters, digits, `-`, `_` and `.` (it is part of every key).
    public init(name: String) throws(ClusterError) {
        guard !name.isEmpty, name.count <= 64,
              name.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)) })
        else { throw ClusterError("cluster name '\(name)' must be 1–64 letters, digits, '-', '_' or '.'") }
        self.name = name
        prefix = "duet:{\(name)}:"
    }

    public var lease: String { prefix + "lease" }
    public var fence: String { prefix + "fence" }
    public var feedback: String { prefix + "feedback" }
    public var versions: String { prefix + "versions" }
    public var head: String { prefix + "head" }
    public var snapshot: String { prefix + "snapshot" }
    public var replicas: String { prefix + "replicas" }
    public var control: String { prefix + "control" }
    public var events: String { prefix + "events" }
    public func delta(_ id: String) -> String { prefix + "delta:" + id }
    /// Any other key of the cluster (under its hash tag).
    public func name(for suffix: String) -> String { prefix + suffix }
    public func impression(_ requestID: String) -> String { prefix + "impression:" + requestID }
    public func consumed(_ requestID: String, item: String) -> String { prefix + "consumed:\(requestID.utf8.count):" + requestID + ":" + item }
}
