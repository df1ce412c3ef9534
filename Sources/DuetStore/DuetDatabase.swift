import Foundation
import GRDB

/// Duet's SQLite file (GRDB): experiment revisions, the model version registry, the audit log and
/// the experiments' saved counts.
///
///     let db = try DuetDatabase(path: "duet-data/duet.sqlite")
///     let rev = try await db.saveRevision(key: "homepage", config: yaml, author: "alice")
///
/// All methods are async and run on GRDB's own queue, never on the caller's thread: safe to call
/// from a SwiftNIO handler.
public final class DuetDatabase: Sendable {
    let writer: DatabasePool

    /// Opens (creating if needed) the database at `path` and migrates it to the latest schema.
    public init(path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError(message: "cannot create directory \(directory.path) for the database: \(error.localizedDescription)")
        }
        // An existing file that is empty is a lost database, not a first start: never start over silently.
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size == 0 {
            throw StoreError(message: "database \(path) exists but is empty (0 bytes): the revisions, registry and audit it held are gone; restore it from a backup, or remove it to start anew")
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        do {
            writer = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(writer)
        } catch {
            throw StoreError(message: "cannot open database \(path): \(error)")
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "experiment_revision") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("key", .text).notNull()
                t.column("revision", .integer).notNull()
                t.column("config", .text).notNull()
                t.column("author", .text).notNull()
                t.column("createdAt", .double).notNull()
                t.column("reverted_from", .integer)
                t.uniqueKey(["key", "revision"])
            }
            try db.create(table: "model_version") { t in
                t.column("slot", .text).notNull()
                t.column("id", .text).notNull()
                t.column("parentID", .text)
                t.column("kind", .text).notNull()
                t.column("createdAt", .double).notNull()
                t.column("source", .text).notNull()
                t.column("examples", .integer).notNull()
                t.column("logloss", .double)
                t.column("auc", .double)
                t.column("path", .text)
                t.primaryKey(["slot", "id"])
            }
            try db.create(table: "audit") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("at", .double).notNull().indexed()
                t.column("actor", .text).notNull()
                t.column("action", .text).notNull()
                t.column("target", .text).notNull()
                t.column("before", .text)
                t.column("after", .text)
            }
        }
        migrator.registerMigration("v2: experiment stats") { db in
            try db.create(table: "experiment_stats") { t in
                t.column("key", .text).notNull()
                t.column("revision", .integer).notNull()
                t.column("arms", .text).notNull()
                t.column("savedAt", .double).notNull()
                t.primaryKey(["key", "revision"])
            }
        }
        migrator.registerMigration("v3: experiment users") { db in
            try db.alter(table: "experiment_stats") { t in
                t.add(column: "users", .blob)
                t.add(column: "usersCount", .integer)
                t.add(column: "excluded", .text)
                t.add(column: "feedbackUsers", .blob)
                t.add(column: "feedbackUsersCount", .integer)
            }
        }
        migrator.registerMigration("v4: health marks") { db in
            try db.alter(table: "model_version") { t in t.add(column: "healthyAt", .double) }
        }
        return migrator
    }
}

/// A storage failure, with the underlying cause in the message.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
