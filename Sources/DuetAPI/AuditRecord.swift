/// One row of the audit trail (`GET /v1/admin/audit`): who changed what, when, from what to what.
public struct AuditRecord: Codable, Sendable {
    public var id: Int64?
    /// Seconds since 1970.
    public var at: Double
    public var actor: String
    public var action: String
    public var target: String
    public var before: String?
    public var after: String?

    public init(id: Int64?, at: Double, actor: String, action: String, target: String, before: String?, after: String?) {
        self.id = id
        self.at = at
        self.actor = actor
        self.action = action
        self.target = target
        self.before = before
        self.after = after
    }
}

/// `GET /v1/admin/audit`.
public struct AuditList: Codable, Sendable {
    public var entries: [AuditRecord]
    public init(entries: [AuditRecord]) { self.entries = entries }
}
