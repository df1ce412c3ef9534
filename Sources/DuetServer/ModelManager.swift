import DuetModels
import DuetStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The model slots of a running server and everything that changes them: the static model picked
/// up from `DATA_DIR/models/static/*.duet` (at startup and by inotify afterwards), the online learner
/// (resumed from its checkpoint, or warm-started from the static model), checkpoints, the SQLite
/// registry, rollbacks and promotes.
public final class ModelManager: Sendable {
    public let staticSlot: ModelSlot
    public let onlineSlot: ModelSlot
    let staticDirectory: String
    let onlineDirectory: String
    let database: DuetDatabase
    let metrics: DuetMetrics
    let logger: Logger
    let configuration: ServerConfiguration
    private let learnerBox = Mutex<OnlineLearner?>(nil)
    private let learnerStarted = Mutex<Bool>(false)
    private let watcher = Mutex<DirectoryWatcher?>(nil)
    private let lastCheckpointed = Mutex<String?>(nil)
    /// Counters already pushed to Prometheus (metrics are deltas of the learner's totals).
    private let reported = Mutex<(updates: Int, published: Int)>((0, 0))

    public var slots: [ModelSlot] { [staticSlot, onlineSlot] }
    public func slot(_ name: String) -> ModelSlot? { slots.first { $0.name == name } }
    public var learner: OnlineLearner? { learnerBox.withLock { $0 } }

    init(configuration: ServerConfiguration, database: DuetDatabase, metrics: DuetMetrics, logger: Logger) async throws {
        self.configuration = configuration
        self.database = database
        self.metrics = metrics
        self.logger = logger
        staticSlot = ModelSlot(name: "static", capacity: configuration.versionsKept)
        onlineSlot = ModelSlot(name: "online", capacity: configuration.versionsKept)
        staticDirectory = configuration.dataDirectory + "/models/static"
        onlineDirectory = configuration.dataDirectory + "/models/online"
        for dir in [staticDirectory, onlineDirectory] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        // The newest static file is the static model.
        let files = Self.modelFiles(in: staticDirectory)
        if files.isEmpty {
            logger.warning("no static model yet: /readyz stays 503 until a file arrives", metadata: ["directory": "\(staticDirectory)"])
        }
        for file in files {
            do {
                try await loadStatic(path: file, actor: "startup")
            } catch {
                logger.error("static model file refused", metadata: ["file": "\(file)", "error": "\(error)"])
            }
        }
        try await startOnline()
    }

    /// `*.duet` files of a directory, oldest first (by modification time).
    static func modelFiles(in directory: String) -> [String] {
        let fm = FileManager.default
        let names = (try? fm.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".duet") && !$0.hasPrefix(".") }.map { directory + "/" + $0 }.sorted { a, b in
            let ta = (try? fm.attributesOfItem(atPath: a)[.modificationDate] as? Date) ?? .distantPast
            let tb = (try? fm.attributesOfItem(atPath: b)[.modificationDate] as? Date) ?? .distantPast
            return ta == tb ? a < b : ta < tb
        }
    }

    /// Reads a static model file and makes it the current static version.
    func loadStatic(path: String, actor: String) async throws {
        let version = try ModelFile.read(path: path)
        let id = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let named = version.renamed(id: id, parentID: version.parentID, kind: .static)
        let before = staticSlot.current?.id
        staticSlot.publish(named)
        publishedMetrics(named, slot: "static")
        try await database.register([record(named, slot: "static", source: "file", path: path)])
        try await database.audit([AuditEntry(actor: actor, action: "model.static_loaded", target: "static", before: before, after: id)])
        logger.info("static model loaded", metadata: ["id": "\(id)", "examples": "\(named.examples)", "by": "\(actor)"])
    }

    func record(_ v: ModelVersion, slot: String, source: String, path: String?) -> ModelVersionRecord {
        ModelVersionRecord(
            slot: slot, id: v.id, parentID: v.parentID, kind: v.kind.rawValue, createdAt: v.createdAt.timeIntervalSince1970,
            source: source, examples: v.examples, logloss: v.metrics.logloss, auc: v.metrics.auc, path: path)
    }

    /// Starts the online learner: from the checkpoint named in `models/online/CURRENT`, else warm from
    /// the static model. Without either it waits for the first static model.
    func startOnline() async throws {
        let alreadyStarted = learnerStarted.withLock { started -> Bool in
            defer { started = true }
            return started
        }
        guard !alreadyStarted else { return }
        var start: ModelVersion?
        var firstID = 1
        let currentFile = onlineDirectory + "/CURRENT"
        if let id = try? String(contentsOfFile: currentFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !id.isEmpty {
            do {
                start = try ModelFile.read(path: onlineDirectory + "/\(id).duet")
                logger.info("online model resumed from checkpoint", metadata: ["id": "\(id)"])
            } catch {
                logger.error("online checkpoint refused; warm-starting from the static model", metadata: ["id": "\(id)", "error": "\(error)"])
            }
        }
        let maxID = Self.modelFiles(in: onlineDirectory).compactMap { Int(URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent) }.max() ?? 0
        firstID = maxID + 1
        if let start {
            onlineSlot.publish(start)
        } else if let s = staticSlot.current {
            let warm = s.renamed(id: String(firstID), parentID: s.id, kind: .online)
            firstID += 1
            onlineSlot.publish(warm)
            start = warm
            logger.info("online model warm-started from the static model", metadata: ["static": "\(s.id)", "id": "\(warm.id)"])
        } else {
            learnerStarted.withLock { $0 = false }
            return
        }
        if let start { publishedMetrics(start, slot: "online") }
        let learner = OnlineLearner(
            slot: onlineSlot, start: start, firstID: firstID, publishInterval: configuration.publishInterval,
            publishEvery: configuration.publishEvery
        ) { [self] version in
            publishedMetrics(version, slot: "online")
            metrics.counter("duet_model_versions_published_total", labels: [("slot", "online")], help: "Model versions published").increment()
            let record = record(version, slot: "online", source: "online", path: nil)
            Task { try? await database.register([record]) }
        }
        learnerBox.withLock { $0 = learner }
    }

    func publishedMetrics(_ v: ModelVersion, slot: String) {
        metrics.gauge("duet_model_version", label: "slot", value: slot, help: "Current model version per slot (numeric ids; else a sequence)")
            .set(to: Double(v.id) ?? Double(slotSequence(slot)))
        metrics.gauge("duet_model_last_publish_timestamp_seconds", label: "slot", value: slot, help: "When the slot last got a new version")
            .set(to: Date().timeIntervalSince1970)
        if let loss = v.metrics.logloss {
            metrics.gauge("duet_progressive_logloss", label: "slot", value: slot, help: "Progressive log loss of the slot's current version").set(to: loss)
        }
    }

    func slotSequence(_ slot: String) -> Int { self.slot(slot)?.versions.count ?? 0 }

    /// True when both slots serve.
    var isReady: Bool { staticSlot.current != nil && onlineSlot.current != nil }

    /// Rolls `slot` back (to `id`, or the previous version), re-points the learner, audits.
    func rollback(slot name: String, to id: String?, actor: String, reason: String = "manual") async throws -> ModelSlot.Swap {
        guard let slot = slot(name) else { throw APIError(.notFound, code: "unknown_slot", message: "no model slot '\(name)' (slots: static, online)") }
        let swap: ModelSlot.Swap
        do { swap = try slot.rollback(to: id) } catch let e as SlotError {
            throw APIError(.conflict, code: "rollback_refused", message: e.description)
        }
        if name == "online" { learner?.reset(to: swap.to) }
        metrics.swapDuration.record(swap.duration)
        metrics.counter("duet_model_rollbacks_total", labels: [("slot", name), ("reason", reason)], help: "Model rollbacks").increment()
        publishedMetrics(swap.to, slot: name)
        try await database.audit([AuditEntry(
            actor: actor, action: reason == "guardrail" ? "model.guardrail_rollback" : "model.rollback", target: name,
            before: swap.from.id, after: swap.to.id)])
        logger.notice("model rolled back", metadata: ["slot": "\(name)", "from": "\(swap.from.id)", "to": "\(swap.to.id)", "by": "\(actor)", "reason": "\(reason)"])
        return swap
    }

    func promote(slot name: String, id: String, actor: String) async throws -> ModelSlot.Swap {
        guard let slot = slot(name) else { throw APIError(.notFound, code: "unknown_slot", message: "no model slot '\(name)' (slots: static, online)") }
        let swap: ModelSlot.Swap
        do { swap = try slot.promote(id) } catch let e as SlotError {
            throw APIError(.notFound, code: "unknown_version", message: e.description)
        }
        if name == "online" { learner?.reset(to: swap.to) }
        metrics.swapDuration.record(swap.duration)
        publishedMetrics(swap.to, slot: name)
        try await database.audit([AuditEntry(actor: actor, action: "model.promote", target: name, before: swap.from.id, after: swap.to.id)])
        return swap
    }

    /// Writes the current online version to `models/online/<id>.duet` and points CURRENT at it, when it
    /// changed since the last checkpoint; keeps the newest 5 checkpoint files.
    func checkpoint() async {
        guard let v = onlineSlot.current else { return }
        guard lastCheckpointed.withLock({ $0 }) != v.id else { return }
        let path = onlineDirectory + "/\(v.id).duet"
        do {
            if !FileManager.default.fileExists(atPath: path) { try ModelFile.write(v, to: path) }
            let tmp = onlineDirectory + "/.CURRENT.tmp"
            try Data((v.id + "\n").utf8).write(to: URL(fileURLWithPath: tmp))
            guard rename(tmp, onlineDirectory + "/CURRENT") == 0 else { throw StoreError(message: "rename CURRENT failed") }
            lastCheckpointed.withLock { $0 = v.id }
            try await database.register([record(v, slot: "online", source: "checkpoint", path: path)])
            let files = Self.modelFiles(in: onlineDirectory)
            let keep = Set(onlineSlot.versions.map { onlineDirectory + "/\($0.id).duet" } + [path])
            for old in files.dropLast(5) where !keep.contains(old) { try? FileManager.default.removeItem(atPath: old) }
        } catch {
            logger.error("online checkpoint failed", metadata: ["id": "\(v.id)", "error": "\(error)"])
        }
    }

    /// Pushes the learner's counters to Prometheus (called at scrape time).
    func reportLearnerMetrics() {
        guard let stats = learner?.stats else { return }
        let (du, _) = reported.withLock { r -> (Int, Int) in
            defer { r = (stats.updates, stats.published) }
            return (stats.updates - r.updates, stats.published - r.published)
        }
        if du > 0 { metrics.onlineUpdates.increment(by: Int64(du)) }
        if let loss = stats.windowLogloss {
            metrics.gauge("duet_progressive_logloss", label: "slot", value: "online", help: "Progressive log loss of the slot's current version").set(to: loss)
        }
    }

    /// The services a running server owns: the learner loop, checkpoints, the static-file watcher.
    var services: [any Service] { [ModelServices(manager: self)] }

    func startWatching() {
        do {
            let w = try DirectoryWatcher(path: staticDirectory) { [self] name in
                guard name.hasSuffix(".duet"), !name.hasPrefix(".") else { return }
                Task {
                    do {
                        try await loadStatic(path: staticDirectory + "/" + name, actor: "file-watch")
                        try await startOnline()
                    } catch {
                        logger.error("static model file refused", metadata: ["file": "\(name)", "error": "\(error)"])
                    }
                }
            }
            w.start()
            watcher.withLock { $0 = w }
        } catch {
            logger.error("cannot watch the static model directory", metadata: ["error": "\(error)"])
        }
    }

    func stopWatching() { watcher.withLock { $0?.stop() } }
}

/// Runs the online learner, periodic checkpoints and the file watch until graceful shutdown.
struct ModelServices: Service {
    let manager: ModelManager

    func run() async throws {
        manager.startWatching()
        defer { manager.stopWatching() }
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    // The learner may appear later (first static model); poll for it.
                    while !Task.isCancelled {
                        if let learner = manager.learner {
                            await learner.run()
                            return
                        }
                        try? await Task.sleep(for: .milliseconds(50))
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: manager.configuration.checkpointInterval)
                        await manager.checkpoint()
                    }
                }
                await group.waitForAll()
            }
        }
        manager.learner?.publishNow()
        await manager.checkpoint()
    }
}
