import Foundation
import GRDB

/// A model version as registered in SQLite: where it came from and how it did.
public struct ModelVersionRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "model_version"
    public var slot: String
    public var id: String
    public var parentID: String?
    public var kind: String
    public var createdAt: Double
    /// `file`, `online`, `checkpoint`, `import`…
    public var source: String
    public var examples: Int
    public var logloss: Double?
    public var auc: Double?
    public var path: String?

    public init(
        slot: String, id: String, parentID: String?, kind: String, createdAt: Double, source: String,
        examples: Int, logloss: Double?, auc: Double?, path: String?
    ) {
        self.slot = slot
        self.id = id
        self.parentID = parentID
        self.kind = kind
        self.createdAt = createdAt
        self.source = source
        self.examples = examples
        self.logloss = logloss
        self.auc = auc
        self.path = path
    }
}

extension DuetDatabase {
    /// Registers (or updates) model versions in one transaction.
    public func register(_ records: [ModelVersionRecord]) async throws {
        guard !records.isEmpty else { return }
        try await writer.write { db in
            for record in records { try record.save(db) }
        }
    }

    /// Registered versions of a slot (all slots when nil), newest first.
    public func modelVersions(slot: String? = nil, limit: Int = 100) async throws -> [ModelVersionRecord] {
        try await writer.read { db in
            var request = ModelVersionRecord.order(Column("createdAt").desc).limit(limit)
            if let slot { request = request.filter(Column("slot") == slot) }
            return try request.fetchAll(db)
        }
    }
}
