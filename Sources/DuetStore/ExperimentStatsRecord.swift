import Foundation
import GRDB

/// The saved per-arm counts of one experiment revision (JSON of the server's counters), so a
/// report and the SRM test continue across restarts.
public struct ExperimentStatsRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "experiment_stats"
    public var key: String
    public var revision: Int
    public var arms: String
    public var savedAt: Double
    /// The users already counted (the server's `SeenUsers` bits) and how many; nil in rows saved
    /// before users were counted (their `assigned` counted requests).
    public var users: Data?
    public var usersCount: Int?
    /// The users whose first feedback on a model's choice was counted, likewise.
    public var feedbackUsers: Data?
    public var feedbackUsersCount: Int?
    /// JSON of the requests counted apart (forced users, users outside the experiment).
    public var excluded: String?

    public init(key: String, revision: Int, arms: String, savedAt: Double, users: Data? = nil, usersCount: Int? = nil,
                excluded: String? = nil, feedbackUsers: Data? = nil, feedbackUsersCount: Int? = nil) {
        self.feedbackUsers = feedbackUsers
        self.feedbackUsersCount = feedbackUsersCount
        self.key = key
        self.revision = revision
        self.arms = arms
        self.savedAt = savedAt
        self.users = users
        self.usersCount = usersCount
        self.excluded = excluded
    }
}

extension DuetDatabase {
    /// Saves (replaces) the counts of each experiment revision, in one transaction. For the keys in
    /// `countsOnly` whose row exists, the saved user filters are left as they are (they are large:
    /// the server writes them less often than the counts).
    public func saveStats(_ records: [ExperimentStatsRecord], countsOnly: Set<String> = []) async throws {
        try await writer.write { db in
            for r in records {
                if countsOnly.contains(r.key), try r.exists(db) {
                    try r.update(db, columns: ["arms", "savedAt", "excluded"])
                } else {
                    try r.save(db)
                }
            }
        }
    }

    /// The saved counts of every experiment revision.
    public func stats() async throws -> [ExperimentStatsRecord] {
        try await writer.read { db in try ExperimentStatsRecord.fetchAll(db) }
    }
}
