import ArgumentParser
import DuetFeatures
import Foundation

/// `duet features …`: pull, verify, load, promote, rollback, list, drop and read versioned feature sets.
struct FeaturesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Versioned feature sets: pull and verify snapshots, load them into Redis, flip versions.",
        discussion: """
            Typical flow:
              duet features pull https://host/snapshots/item_catalog/v2 --out snap/v2
              duet features load snap/v2 --redis redis://127.0.0.1:6379
              duet features promote item_catalog v2 --redis redis://127.0.0.1:6379
              duet features rollback item_catalog --redis redis://127.0.0.1:6379
            --redis may also come from DUET_REDIS.
            """,
        subcommands: [
            FeaturesPull.self, FeaturesVerify.self, FeaturesLoad.self, FeaturesPromote.self, FeaturesRollback.self,
            FeaturesList.self, FeaturesDrop.self, FeaturesGet.self,
        ]
    )
}

/// `--redis` (or `DUET_REDIS`).
struct RedisOption: ParsableArguments {
    @Option(name: .long, help: "Redis URL redis://[:password@]host:port[/db] (default: $DUET_REDIS).")
    var redis: String?

    func url() throws -> String {
        if let redis, !redis.isEmpty { return redis }
        if let env = ProcessInfo.processInfo.environment["DUET_REDIS"], !env.isEmpty { return env }
        throw FeatureError(.invalidArgument, "no Redis given: pass --redis redis://host:port or set DUET_REDIS")
    }

    func admin() throws -> FeatureVersionAdmin { try FeatureVersionAdmin(url: url()) }
}

/// `--definitions DIR` (default `features`).
struct DefinitionsOption: ParsableArguments {
    @Option(name: .long, help: "Directory of feature-set definitions (*.yaml).")
    var definitions: String = "features"

    func load() throws -> [FeatureSetDefinition] { try FeatureSetDefinition.load(directory: definitions) }

    func definition(of set: String) throws -> FeatureSetDefinition {
        guard let d = try load().first(where: { $0.name == set }) else {
            throw FeatureError(.invalidArgument, "feature set \(set) is not defined in \(definitions)/ (add \(definitions)/\(set).yaml)")
        }
        return d
    }
}

struct FeaturesPull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull", abstract: "Fetch a snapshot (path, http(s)://, s3://bucket/prefix), verify it, write it to --out.")

    @Argument(help: "Snapshot location: a directory, http(s)://…/DIR or s3://bucket/prefix (holding manifest.json).")
    var source: String
    @Option(name: .long, help: "Directory to create (must not exist or be empty).")
    var out: String
    @Option(name: .customLong("s3-endpoint"), help: "S3-compatible endpoint, e.g. http://127.0.0.1:9000 (default: $AWS_ENDPOINT_URL or AWS).")
    var s3Endpoint: String?
    @Option(name: .long, help: "AWS region for signing (default: $AWS_REGION or us-east-1).")
    var region: String?

    func run() async throws {
        let m = try SnapshotPuller(s3Endpoint: s3Endpoint, region: region).pull(source: source, out: out)
        print("pulled \(m.set)@\(m.version): \(m.rows) rows, \(m.bytes) bytes, sha256 verified → \(out)")
    }
}

struct FeaturesVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Check a snapshot directory: size, sha256, header, row count.")

    @Argument(help: "Snapshot directory (holding manifest.json).")
    var directory: String
    @OptionGroup var definitions: DefinitionsOption

    func run() async throws {
        let s = try Snapshot.open(directory: directory)
        if FileManager.default.fileExists(atPath: definitions.definitions) {
            _ = try Snapshot.open(directory: directory, definition: definitions.definition(of: s.manifest.set))
        }
        print("ok \(s.manifest.set)@\(s.manifest.version): \(s.manifest.rows) rows, sha256 \(s.manifest.sha256)")
    }
}

struct FeaturesLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load", abstract: "Write a verified snapshot into Redis as a new version (does not change `current`).")

    @Argument(help: "Snapshot directory (holding manifest.json).")
    var directory: String
    @OptionGroup var redis: RedisOption
    @OptionGroup var definitions: DefinitionsOption
    @Option(name: .customLong("batch-size"), help: "Rows per pipelined round trip.")
    var batchSize: Int = 1000

    func run() async throws {
        guard batchSize > 0 else { throw FeatureError(.invalidArgument, "--batch-size must be > 0") }
        let plain = try Snapshot.open(directory: directory)
        let snapshot = try Snapshot.open(directory: directory, definition: definitions.definition(of: plain.manifest.set))
        let admin = try redis.admin()
        admin.batchSize = batchSize
        let r = try admin.load(snapshot: snapshot)
        let current = try admin.current(set: r.set) ?? "none"
        print("loaded \(r.set)@\(r.version): \(r.rows) rows verified in Redis in \(String(format: "%.3f", r.seconds)) s (\(Int(r.rowsPerSecond)) rows/s)")
        print("current \(r.set) is still \(current); to serve it: duet features promote \(r.set) \(r.version)")
    }
}

struct FeaturesPromote: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "promote", abstract: "Make VERSION the current version of SET (atomic).")

    @Argument var set: String
    @Argument var version: String
    @OptionGroup var redis: RedisOption

    func run() async throws {
        let old = try redis.admin().promote(set: set, version: version)
        print("\(set): current \(old ?? "none") → \(version)")
    }
}

struct FeaturesRollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rollback", abstract: "Flip SET back to its previous version (atomic).")

    @Argument var set: String
    @OptionGroup var redis: RedisOption

    func run() async throws {
        let r = try redis.admin().rollback(set: set)
        print("\(set): current \(r.from.isEmpty ? "none" : r.from) → \(r.to)")
    }
}

struct FeaturesList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Show the versions in Redis, their row counts, and which is current.")

    @Argument(help: "Only this set.")
    var set: String?
    @OptionGroup var redis: RedisOption
    @Flag(name: .long, help: "Print JSON lines.")
    var json = false

    func run() async throws {
        let infos = try redis.admin().list(set: set)
        if json {
            for i in infos {
                let obj: [String: Any] = [
                    "set": i.set, "version": i.version, "rows": i.rows as Any, "current": i.isCurrent,
                    "previous": i.isPrevious, "complete": i.complete, "loaded_at": i.loadedAt as Any,
                ]
                let data = try JSONSerialization.data(withJSONObject: obj.compactMapValues { $0 is NSNull ? nil : $0 }, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            }
            return
        }
        if infos.isEmpty { print("no feature versions in Redis"); return }
        let w0 = max(3, infos.map(\.set.count).max() ?? 0), w1 = max(7, infos.map(\.version.count).max() ?? 0)
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
        print("\(pad("SET", w0))  \(pad("VERSION", w1))  \(pad("ROWS", 9))  \(pad("STATE", 10))  LOADED")
        for i in infos {
            let state = !i.complete ? "incomplete" : i.isCurrent ? "current" : i.isPrevious ? "previous" : ""
            print("\(pad(i.set, w0))  \(pad(i.version, w1))  \(pad(i.rows.map(String.init) ?? "-", 9))  \(pad(state, 10))  \(i.loadedAt ?? "-")")
        }
    }
}

struct FeaturesDrop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "drop", abstract: "Delete a version that is not current.")

    @Argument var set: String
    @Argument var version: String
    @OptionGroup var redis: RedisOption

    func run() async throws {
        try redis.admin().drop(set: set, version: version)
        print("dropped \(set)@\(version)")
    }
}

struct FeaturesGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Read entities through the feature reader (Redis, or the embedded store without --redis/DUET_REDIS).")

    @Argument var set: String
    @Argument(help: "Entity ids.")
    var ids: [String]
    @OptionGroup var redis: RedisOption
    @OptionGroup var definitions: DefinitionsOption
    @Option(name: .long, help: "Snapshots directory for the embedded store.")
    var snapshots: String = "features/snapshots"
    @Option(name: .customLong("budget-ms"), help: "Read budget in milliseconds.")
    var budgetMs: Int = 200

    func run() async throws {
        let defs = try definitions.load()
        guard defs.contains(where: { $0.name == set }) else {
            throw FeatureError(.invalidArgument, "feature set \(set) is not defined in \(definitions.definitions)/")
        }
        let reader: any FeatureReader
        if let url = try? redis.url() {
            reader = try RedisFeatureStore(url: url, definitions: defs, budget: .milliseconds(budgetMs))
        } else {
            reader = try EmbeddedFeatureStore(snapshotsDirectory: snapshots, definitions: defs)
        }
        let r = await reader.read(set: set, ids: ids)
        let fields = defs.first { $0.name == set }!.fieldNames
        print("set=\(r.set) version=\(r.version.isEmpty ? "none" : r.version) degraded=\(r.degraded)")
        for row in r.rows {
            let values = fields.map { "\($0)=\(row.values[$0]?.description ?? "")" }.joined(separator: " ")
            print("\(row.id) found=\(row.found) \(values)")
        }
    }
}
