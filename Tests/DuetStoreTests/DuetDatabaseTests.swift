import DuetStore
import DuetTestSupport
import Foundation
import Testing

@Suite struct DuetDatabaseTests {
    func openDatabase() throws -> (DuetDatabase, URL) {
        let dir = try TestSupport.temporaryDirectory("store")
        return (try DuetDatabase(path: dir.appendingPathComponent("duet.sqlite").path), dir)
    }

    @Test func revisionsCountUpPerKeyAndSurviveReopen() async throws {
        let (db, dir) = try openDatabase()
        _ = try await db.saveRevisions([("a", "key: a\n"), ("b", "key: b\n")], author: "alice")
        let second = try await db.saveRevisions([("a", "key: a # 2\n")], author: "bob")
        #expect(second.map(\.revision) == [2])
        let reopened = try DuetDatabase(path: dir.appendingPathComponent("duet.sqlite").path)
        let latest = try await reopened.latestRevisions()
        #expect(latest.map(\.key) == ["a", "b"])
        #expect(latest.map(\.revision) == [2, 1])
        #expect(latest.first?.author == "bob")
        #expect(try await reopened.revisions(key: "a").map(\.config) == ["key: a\n", "key: a # 2\n"])
    }

    @Test func aCountsOnlySaveKeepsTheSavedUserFilters() async throws {
        let (db, _) = try openDatabase()
        let bits = Data(repeating: 7, count: 16)
        try await db.saveStats([ExperimentStatsRecord(key: "k", revision: 1, arms: "[1]", savedAt: 1, users: bits, usersCount: 3, excluded: "{}")])
        try await db.saveStats([ExperimentStatsRecord(key: "k", revision: 1, arms: "[2]", savedAt: 2, excluded: "{}")], countsOnly: ["k"])
        var row = try #require(try await db.stats().first)
        #expect(row.arms == "[2]" && row.users == bits && row.usersCount == 3)
        // A key saved for the first time is written whole, countsOnly or not.
        try await db.saveStats([ExperimentStatsRecord(key: "new", revision: 1, arms: "[3]", savedAt: 3, users: bits)], countsOnly: ["new"])
        row = try #require(try await db.stats().first { $0.key == "new" })
        #expect(row.users == bits)
    }

    @Test func modelRegistryUpsertsAndFiltersBySlot() async throws {
        let (db, _) = try openDatabase()
        let now = Date().timeIntervalSince1970
        try await db.register([
            ModelVersionRecord(slot: "static", id: "s1", parentID: nil, kind: "static", createdAt: now, source: "file", examples: 10, logloss: 0.1, auc: 0.6, path: "/x"),
            ModelVersionRecord(slot: "online", id: "1", parentID: "s1", kind: "online", createdAt: now + 1, source: "online", examples: 5, logloss: nil, auc: nil, path: nil),
        ])
        try await db.register([
            ModelVersionRecord(slot: "online", id: "1", parentID: "s1", kind: "online", createdAt: now + 1, source: "checkpoint", examples: 5, logloss: 0.2, auc: nil, path: "/y"),
        ])
        let online = try await db.modelVersions(slot: "online")
        #expect(online.count == 1)
        #expect(online.first?.source == "checkpoint")
        #expect(try await db.modelVersions().map(\.id) == ["1", "s1"])
    }

    @Test func theRegistryIsThinnedToRecentRowsOnePerHourAndPins() async throws {
        let (db, _) = try openDatabase()
        let t0 = 1_800_000_000.0 - 1_800_000_000.0.truncatingRemainder(dividingBy: 3600)
        // 10 hours of versions, 60 an hour.
        let rows = (0..<600).map { i in
            ModelVersionRecord(slot: "online", id: "\(i)", parentID: nil, kind: "online", createdAt: t0 + Double(i) * 60, source: "online", examples: i, logloss: nil, auc: nil, path: nil)
        }
        try await db.register(rows + [ModelVersionRecord(slot: "static", id: "s", parentID: nil, kind: "static", createdAt: t0, source: "file", examples: 1, logloss: nil, auc: nil, path: "/s")])
        let deleted = try await db.thinModelVersions(slot: "online", recent: 100, keep: ["7"])
        let left = Set(try await db.modelVersions(slot: "online", limit: 10_000).map(\.id))
        // The newest 100, the newest of each older hour, and the pinned one.
        let expected = Set((500..<600).map(String.init) + stride(from: 59, to: 500, by: 60).map(String.init) + ["7"])
        #expect(left == expected, "\(left.subtracting(expected)) \(expected.subtracting(left))")
        #expect(deleted == 600 - expected.count)
        #expect(try await db.modelVersions(slot: "static").count == 1)
    }

    @Test func auditIsNewestFirstAndFiltersBySince() async throws {
        let (db, _) = try openDatabase()
        try await db.audit([
            AuditEntry(at: 100, actor: "alice", action: "experiment.apply", target: "homepage", before: nil, after: "1"),
            AuditEntry(at: 200, actor: "bob", action: "model.rollback", target: "online", before: "7", after: "6"),
        ])
        #expect(try await db.auditEntries().map(\.actor) == ["bob", "alice"])
        #expect(try await db.auditEntries(since: 150).map(\.action) == ["model.rollback"])
    }

    @Test func anUnopenablePathIsAClearError() {
        #expect(throws: StoreError.self) { try DuetDatabase(path: "/proc/duet/duet.sqlite") }
    }
}
