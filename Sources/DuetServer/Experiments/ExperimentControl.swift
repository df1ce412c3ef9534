import Atomics
import DuetEvaluation
import DuetRouting
import DuetStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The live experiments: an immutable route table behind one atomic reference (what requests read),
/// and the writer that validates, stores and swaps new revisions (what admins call). As a `Service`
/// it saves the per-arm counts to SQLite every `statsInterval` and at shutdown.
public final class ExperimentControl: Service, Sendable {
    /// One published state: the table, each experiment's revision, its YAML and counters.
    public final class Snapshot: AtomicReference, Sendable {
        public let table: RouteTable
        public let revisions: [String: ExperimentRevision]
        public let stats: [String: ExperimentStats]
        /// The SRM p-value of `config`'s live revision: observed assignments against configured weights.
        public func srmPValue(_ config: ExperimentConfig) -> Double {
            ExperimentStatistics.srmPValue(observed: stats[config.key]?.arms.map(\.assigned) ?? [], weights: config.arms.map(\.weight))
        }

        init(table: RouteTable, revisions: [String: ExperimentRevision], stats: [String: ExperimentStats]) {
            self.table = table
            self.revisions = revisions
            self.stats = stats
        }
    }

    private let current: ManagedAtomic<Snapshot>
    private let writer = AsyncLock()
    /// The counts last saved, by experiment: an idle server writes nothing.
    private let savedStats = Mutex<[String: (revision: Int, saved: ExperimentStats.Saved)]>([:])
    /// When each experiment's user filters (2 × 256 KiB) were last written, by key and revision.
    private let usersSavedAt = Mutex<[String: (revision: Int, at: Double)]>([:])
    /// How often the user filters are written while the counts change (the counts: every second).
    static let usersSaveInterval = 10.0
    let database: DuetDatabase
    let metrics: DuetMetrics
    let logger: Logger
    /// Checks pins at apply and holds the pinned versions (nil: a test without models).
    let models: ModelRegistry?

    /// What requests read: one atomic load.
    public var snapshot: Snapshot { current.load(ordering: .acquiring) }

    /// Starts from the latest revisions in SQLite, or on first start from the files in `directory`
    /// (stored as revision 1 of each, by `startup`).
    init(database: DuetDatabase, directory: String, metrics: DuetMetrics, logger: Logger, models: ModelRegistry? = nil) async throws {
        self.database = database
        self.metrics = metrics
        self.logger = logger
        self.models = models
        var revisions = try await database.latestRevisions()
        if revisions.isEmpty {
            let files = try Self.configFiles(in: directory)
            let configs = try ExperimentLoader.load(files: files)
            let texts = try files.map { try String(contentsOfFile: $0, encoding: .utf8) }
            revisions = try await database.saveRevisions(
                zip(configs, texts).map { (key: $0.key, config: $1) }, author: "startup")
            try await database.audit(revisions.map {
                AuditEntry(actor: "startup", action: "experiment.apply", target: $0.key, before: nil, after: "revision \($0.revision)")
            })
            logger.info("experiments loaded from files (first start)", metadata: ["directory": "\(directory)", "count": "\(configs.count)"])
        } else {
            logger.info("experiments loaded from SQLite revisions", metadata: ["count": "\(revisions.count)"])
        }
        let snapshot = try Self.makeSnapshot(revisions: revisions, previous: nil)
        var restored: [String] = []
        for saved in try await database.stats() {
            guard let stats = snapshot.stats[saved.key], stats.revision == saved.revision,
                  var arms = try? JSONDecoder().decode([ExperimentStats.Arm].self, from: Data(saved.arms.utf8))
            else { continue }
            let users = saved.users.flatMap { SeenUsers(bytes: [UInt8]($0), count: saved.usersCount ?? 0) }
            // Rows saved before users were counted held requests in `assigned`: not users, dropped.
            if users == nil { for i in arms.indices { arms[i].assigned = 0 } }
            let excluded = saved.excluded.flatMap { try? JSONDecoder().decode(ExperimentStats.Excluded.self, from: Data($0.utf8)) }
            let feedbackUsers = saved.feedbackUsers.flatMap { SeenUsers(bytes: [UInt8]($0), count: saved.feedbackUsersCount ?? 0) }
            stats.restore(ExperimentStats.Saved(arms: arms, excluded: excluded ?? .init(), users: users, feedbackUsers: feedbackUsers))
            restored.append("\(saved.key)@\(saved.revision)")
        }
        if !restored.isEmpty { logger.info("experiment counts restored", metadata: ["revisions": "\(restored.joined(separator: ","))"]) }
        current = ManagedAtomic(snapshot)
        publishMetrics(snapshot)
    }

    static func configFiles(in directory: String) throws -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw ConfigurationError(message: "--experiments: cannot read directory \(directory)")
        }
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { directory + "/" + $0 }
    }

    static func makeSnapshot(revisions: [ExperimentRevision], previous: Snapshot?) throws -> Snapshot {
        var configs: [ExperimentConfig] = []
        var byKey: [String: ExperimentRevision] = [:]
        var stats: [String: ExperimentStats] = [:]
        for r in revisions {
            let config = try ExperimentLoader.parse(yaml: r.config, file: "\(r.key)@\(r.revision)")
            configs.append(config)
            byKey[r.key] = r
            if let old = previous?.stats[r.key], old.revision == r.revision {
                stats[r.key] = old
            } else {
                stats[r.key] = ExperimentStats(revision: r.revision, arms: config.arms.count)
            }
        }
        return Snapshot(table: RouteTable(experiments: configs), revisions: byKey, stats: stats)
    }

    func publishMetrics(_ snapshot: Snapshot) {
        for (key, r) in snapshot.revisions {
            metrics.experimentRevision(key).set(to: Double(r.revision))
        }
    }

    /// Saves the live revisions' per-arm counts that changed since the last save (a crash loses at
    /// most the last interval's). The user filters behind the distinct-user counts are written with
    /// them at most every `usersSaveInterval` seconds and at shutdown (`final`): 512 KiB a second
    /// would be 44 GB a day of writes. After a crash, a user first seen in those last seconds who
    /// returns is counted again (each arm alike, unless returning depends on the arm).
    func saveStats(final: Bool = false) async {
        let s = snapshot
        let now = Date().timeIntervalSince1970
        let encoder = JSONEncoder()
        let changed = savedStats.withLock { saved in
            s.stats.compactMap { key, stats -> (key: String, revision: Int, saved: ExperimentStats.Saved)? in
                let now = stats.saved
                if let last = saved[key], last.revision == stats.revision, last.saved == now { return nil }
                return (key, stats.revision, now)
            }
        }
        guard !changed.isEmpty else { return }
        let countsOnly: Set<String> = final ? [] : usersSavedAt.withLock { at in
            Set(changed.filter { c in at[c.key].map { $0.revision == c.revision && now - $0.at < Self.usersSaveInterval } ?? false }.map(\.key))
        }
        let records = changed.compactMap { c -> ExperimentStatsRecord? in
            guard let json = try? encoder.encode(c.saved.arms), let excluded = try? encoder.encode(c.saved.excluded) else { return nil }
            let withUsers = !countsOnly.contains(c.key)
            return ExperimentStatsRecord(
                key: c.key, revision: c.revision, arms: String(decoding: json, as: UTF8.self), savedAt: now,
                users: withUsers ? c.saved.users.map { Data($0.bytes) } : nil, usersCount: c.saved.users?.count,
                excluded: String(decoding: excluded, as: UTF8.self),
                feedbackUsers: withUsers ? c.saved.feedbackUsers.map { Data($0.bytes) } : nil, feedbackUsersCount: c.saved.feedbackUsers?.count)
        }
        do {
            try await database.saveStats(records, countsOnly: countsOnly)
            savedStats.withLock { saved in for c in changed { saved[c.key] = (c.revision, c.saved) } }
            usersSavedAt.withLock { at in for c in changed where !countsOnly.contains(c.key) { at[c.key] = (c.revision, now) } }
        } catch {
            logger.error("experiment counts not saved", metadata: ["error": "\(error)"])
        }
    }

    /// Saves the counts every second until graceful shutdown, then once more (one small SQLite
    /// transaction a second; a crash loses at most the last second of counts).
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while (try? await Task.sleep(for: .seconds(1))) != nil {
                await self.saveStats()
            }
        }
        // Past cancellation: the last save runs in a task of its own (see LearnerService.checkpoint).
        await Task(executorPreference: BackgroundExecutor.shared) { [self] in await saveStats(final: true) }.value
    }

    /// SRM p-value of each experiment's live revision.
    public func srm() -> [String: Double] {
        let s = snapshot
        var out: [String: Double] = [:]
        for config in s.table.experiments {
            out[config.key] = s.srmPValue(config)
        }
        return out
    }

    /// Where applied changes go in cluster mode (every replica applies them); nil: this process only.
    private let distributor = Mutex<(any ChangeDistributor)?>(nil)

    /// Cluster mode: `apply` (and so `revert`) validates here, then hands the change to `d`, which
    /// has every replica apply it (`applyHere`) and returns this replica's result.
    func distribute(through d: any ChangeDistributor) { distributor.withLock { $0 = d } }

    /// Validates `files` together with the live experiments they do not replace, stores them as new
    /// revisions (one transaction), audits, and swaps the table. All or nothing. In cluster mode the
    /// change is validated here and then applied by every replica, this one included.
    public func apply(_ files: [(file: String, yaml: String)], actor: String, revertedFrom: Int? = nil) async throws -> [ExperimentRevision] {
        if let d = distributor.withLock({ $0 }) {
            try await writer.withLock { _ = try self.validated(files) }
            return try await d.distributeExperiments(files, actor: actor, revertedFrom: revertedFrom)
        }
        return try await applyHere(files, actor: actor, revertedFrom: revertedFrom)
    }

    /// The configs of `files`, checked together with the live experiments they do not replace (pins
    /// included), or `ExperimentError.invalidConfig` with every problem.
    private func validated(_ files: [(file: String, yaml: String)]) throws -> [(file: String, config: ExperimentConfig, yaml: String)] {
        var parsed: [(file: String, config: ExperimentConfig, yaml: String)] = []
        var problems: [ValidationProblem] = []
        for f in files {
            do {
                parsed.append((f.file, try ExperimentLoader.parse(yaml: f.yaml, file: f.file), f.yaml))
            } catch let error as ExperimentValidationError {
                problems += error.problems
            }
        }
        let live = self.snapshot
        let replaced = Set(parsed.map(\.config.key))
        var all: [(file: String, config: ExperimentConfig)] = parsed.map { ($0.file, $0.config) }
        for config in live.table.experiments where !replaced.contains(config.key) {
            all.append((file: "live:\(config.key)", config: config))
        }
        let keys = parsed.map(\.config.key)
        if Set(keys).count != keys.count {
            problems.append(ValidationProblem(file: "(request)", field: "key", message: "the same experiment key appears twice"))
        }
        problems += ExperimentLoader.validate(all)
        // A pin must name a version its slot keeps now: never a silent 503 for the arm's users.
        if let models = self.models {
            for p in parsed {
                for (i, arm) in p.config.arms.enumerated() {
                    if let why = models.makeServable(arm.model) {
                        problems.append(ValidationProblem(file: p.file, field: "arms[\(i)].model", message: why))
                    }
                }
            }
        }
        guard problems.isEmpty else {
            throw ExperimentError.invalidConfig(problems)
        }
        return parsed
    }

    /// `apply` on this replica only (what every replica runs for a distributed change).
    func applyHere(_ files: [(file: String, yaml: String)], actor: String, revertedFrom: Int? = nil) async throws -> [ExperimentRevision] {
        try await writer.withLock {
            let parsed = try self.validated(files)
            let live = self.snapshot
            let keys = parsed.map(\.config.key)
            let saved = try await self.database.saveRevisions(parsed.map { (key: $0.config.key, config: $0.yaml) }, author: actor, revertedFrom: revertedFrom)
            var revisions = live.revisions
            for r in saved { revisions[r.key] = r }
            let next = try Self.makeSnapshot(revisions: revisions.values.sorted { $0.key < $1.key }, previous: live)
            self.current.store(next, ordering: .releasing)
            self.models?.holdPins(of: next.table.experiments)
            self.publishMetrics(next)
            try await self.database.audit(saved.map { r in
                AuditEntry(actor: actor, action: revertedFrom == nil ? "experiment.apply" : "experiment.revert", target: r.key,
                           before: live.revisions[r.key].map { "revision \($0.revision)" },
                           after: "revision \(r.revision)" + (revertedFrom.map { " (content of revision \($0))" } ?? ""))
            })
            if revertedFrom == nil { self.metrics.experimentApplies.increment(by: Int64(saved.count)) } else { self.metrics.experimentReverts.increment() }
            self.logger.info("experiments applied", metadata: ["by": "\(actor)", "keys": "\(keys.joined(separator: ","))"])
            return saved
        }
    }

    /// Re-applies an earlier revision's content as a new revision (default: the one before the live one;
    /// `noEarlierRevision` when the live one is the first).
    public func revert(key: String, to revision: Int?, actor: String) async throws -> ExperimentRevision {
        let history = try await database.revisions(key: key)
        guard let live = history.last else {
            throw ExperimentError.unknownExperiment(key)
        }
        // The default, the revision before the live one: the newest revision older than it.
        guard let targetNumber = revision ?? history.last(where: { $0.revision < live.revision })?.revision else {
            throw ExperimentError.noEarlierRevision(key: key, live: live.revision)
        }
        guard let target = history.first(where: { $0.revision == targetNumber }) else {
            throw ExperimentError.unknownRevision(key: key, revision: targetNumber, live: live.revision)
        }
        let saved = try await apply([(file: "\(key)@\(target.revision)", yaml: target.config)], actor: actor, revertedFrom: target.revision)
        return saved[0]
    }
}
