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

    /// Thins a slot's registry as the learner thins its history: the newest `recent` rows stay, and
    /// of the older ones the newest of each hour, and every id in `keep` (pinned versions). So the
    /// table grows by at most one row an hour once `recent` is reached. Returns the rows deleted.
    @discardableResult
    public func thinModelVersions(slot: String, recent: Int = 1000, keep: Set<String> = []) async throws -> Int {
        try await writer.write { db in
            let kept = keep.isEmpty ? "" : " AND id NOT IN (\(keep.map { _ in "?" }.joined(separator: ",")))"
            try db.execute(sql: """
                DELETE FROM model_version WHERE slot = ?
                  AND rowid NOT IN (SELECT rowid FROM model_version WHERE slot = ? ORDER BY createdAt DESC LIMIT ?)
                  AND rowid NOT IN (SELECT MAX(rowid) FROM model_version WHERE slot = ? GROUP BY CAST(createdAt / 3600 AS INTEGER))
                """ + kept, arguments: StatementArguments([slot, slot, recent, slot] as [any DatabaseValueConvertible] + keep.sorted()))
            return db.changesCount
        }
    }

    /// Records that the guardrail marked `record`'s version healthy at `at` (registering it first when
    /// it is not; a registered row keeps its other columns).
    public func markHealthy(_ record: ModelVersionRecord, at: Double) async throws {
        try await writer.write { db in
            try record.insert(db, onConflict: .ignore)
            try db.execute(sql: "UPDATE model_version SET healthyAt = ? WHERE slot = ? AND id = ?", arguments: [at, record.slot, record.id])
        }
    }

    /// The newest `limit` versions of `slot` marked healthy, oldest first.
    public func healthyVersionIDs(slot: String, limit: Int) async throws -> [String] {
        try await writer.read { db in
            try String.fetchAll(db, sql: """
                SELECT id FROM (SELECT id, healthyAt FROM model_version WHERE slot = ? AND healthyAt IS NOT NULL
                                ORDER BY healthyAt DESC LIMIT ?) ORDER BY healthyAt
                """, arguments: [slot, limit])
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
