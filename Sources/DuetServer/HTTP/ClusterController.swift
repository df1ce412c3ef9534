import DuetAPI
import Foundation
import Hummingbird

/// `GET /v1/admin/cluster`: the replicas, the trainer, the head and the feedback stream (cluster
/// mode), or the one process (single-process mode).
struct ClusterController: Sendable {
    let cluster: ClusterService?
    let models: ModelRegistry
    /// Where this process listens (single-process mode).
    let address: String

    func addRoutes(to admin: RouterGroup<DuetRequestContext>) {
        admin.get("cluster") { _, _ in
            if let cluster { return try JSONResponse.make(await cluster.info()) }
            let version = models.onlineSlot.current?.id
            return try JSONResponse.make(ClusterInfo(
                mode: "single", cluster: nil, me: "local", trainer: "local", leaseToken: nil,
                replicas: [.init(replica: "local", address: address, version: version, seenAt: Date().timeIntervalSince1970, trainer: true)],
                version: version, head: version, stream: nil, published: 0, applied: 0, resyncs: 0, redisError: nil))
        }
    }
}
