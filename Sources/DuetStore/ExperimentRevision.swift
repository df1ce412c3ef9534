import Foundation
import GRDB

/// One stored revision of an experiment's config (YAML text as applied).
public struct ExperimentRevision: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "experiment_revision"
    public var id: Int64?
    public var key: String
    public var revision: Int
    public var config: String
    public var author: String
    public var createdAt: Double
    public var revertedFrom: Int?

    enum CodingKeys: String, CodingKey {
        case id, key, revision, config, author, createdAt
        case revertedFrom = "reverted_from"
    }
}

extension DuetDatabase {
    /// Stores new revisions for several experiments in one transaction: all or none.
    /// Returns the revisions as stored (numbers assigned per key, counting up from 1).
    public func saveRevisions(
        _ configs: [(key: String, config: String)], author: String, revertedFrom: Int? = nil
    ) async throws -> [ExperimentRevision] {
        try await writer.write { db in
            var saved: [ExperimentRevision] = []
            for (key, config) in configs {
                let last = try Int.fetchOne(
                    db, sql: "SELECT MAX(revision) FROM experiment_revision WHERE key = ?", arguments: [key]) ?? 0
                var row = ExperimentRevision(
                    id: nil, key: key, revision: last + 1, config: config, author: author,
                    createdAt: Date().timeIntervalSince1970, revertedFrom: revertedFrom)
                try row.insert(db)
                row.id = db.lastInsertedRowID
                saved.append(row)
            }
            return saved
        }
    }

    /// The latest revision of every experiment.
    public func latestRevisions() async throws -> [ExperimentRevision] {
        try await writer.read { db in
            try ExperimentRevision.fetchAll(db, sql: """
                SELECT r.* FROM experiment_revision r
                JOIN (SELECT key, MAX(revision) AS m FROM experiment_revision GROUP BY key) x
                  ON r.key = x.key AND r.revision = x.m
                ORDER BY r.key
                """)
        }
    }

    /// Every revision of one experiment, oldest first.
    public func revisions(key: String) async throws -> [ExperimentRevision] {
        try await writer.read { db in
            try ExperimentRevision
                .filter(Column("key") == key)
                .order(Column("revision"))
                .fetchAll(db)
        }
    }
}
