import DuetRouting

/// One entry of the control stream: a change every replica makes (JSON).
struct ClusterChange: Codable, Sendable {
    enum Kind: String, Codable { case experiments, rollback }
    struct File: Codable, Sendable {
        var file: String
        var yaml: String
    }

    var kind: Kind
    /// The replica it was made on.
    var origin: String
    var actor: String
    // Experiments.
    var files: [File]?
    var revertedFrom: Int?
    // Rollbacks and promotes.
    var slot: String?
    var to: String?
    var reason: ModelRegistry.RollbackReason?
    var why: String?
    /// A promote rather than a rollback (the audit says which).
    var promote: Bool?
}
