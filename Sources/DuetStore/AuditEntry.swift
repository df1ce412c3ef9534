import Foundation
import GRDB

/// One row of the audit log: who changed what, when, from what to what.
public struct AuditEntry: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "audit"
    public var id: Int64?
    public var at: Double
    public var actor: String
    /// `experiment.apply`, `experiment.revert`, `model.rollback`, `model.promote`, `model.static_loaded`,
    /// `model.guardrail_rollback`.
    public var action: String
    public var target: String
    public var before: String?
    public var after: String?

    public init(at: Double = Date().timeIntervalSince1970, actor: String, action: String, target: String, before: String?, after: String?) {
        self.id = nil
        self.at = at
        self.actor = actor
        self.action = action
        self.target = target
        self.before = before
        self.after = after
    }
}

extension DuetDatabase {
    /// Appends rows to the audit log.
    public func audit(_ entries: [AuditEntry]) async throws {
        guard !entries.isEmpty else { return }
        try await writer.write { db in
            for entry in entries { try entry.insert(db) }
        }
    }

    /// Audit rows at or after `since` (seconds since 1970), newest first.
    public func auditEntries(since: Double? = nil, limit: Int = 200) async throws -> [AuditEntry] {
        try await writer.read { db in
            var request = AuditEntry.order(Column("id").desc).limit(limit)
            if let since { request = request.filter(Column("at") >= since) }
            return try request.fetchAll(db)
        }
    }
}
