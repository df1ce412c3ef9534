import DuetModels
import DuetRouting
import DuetStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The online learner's life: it starts from the checkpoint named in `models/online/CURRENT` (that
/// one refused: the newest checkpoint that reads), or warm from the static model (or, with neither,
/// waits for the first static model); it runs the learner loop and writes a checkpoint every
/// `checkpointInterval`; on graceful shutdown it publishes what it learned and writes a last checkpoint.
final class LearnerService: Service, Sendable {
    struct Configuration: Sendable {
        var publishInterval: Duration
        var publishEvery: Int
        var checkpointInterval: Duration
    }

    let directory: String
    let registry: ModelRegistry
    let configuration: Configuration
    let database: DuetDatabase
    let metrics: DuetMetrics
    let logger: Logger
    private let started = Mutex<Bool>(false)
    private let lastCheckpointed = Mutex<String?>(nil)
    /// Counters already pushed to Prometheus (metrics are deltas of the learner's totals).
    private let reported = Mutex<(updates: Int, published: Int)>((0, 0))

    init(dataDirectory: String, configuration: Configuration, registry: ModelRegistry, database: DuetDatabase, metrics: DuetMetrics, logger: Logger) throws {
        directory = dataDirectory + "/models/online"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.configuration = configuration
        self.registry = registry
        self.database = database
        self.metrics = metrics
        self.logger = logger
    }

    /// Starts the learner (once): from the checkpoint, else warm from the static model. Without
    /// either it returns and waits for the next call.
    func start() async throws {
        let alreadyStarted = started.withLock { s -> Bool in
            defer { s = true }
            return s
        }
        guard !alreadyStarted else { return }
        let online = registry.onlineSlot
        var start = resumeFromCheckpoint()
        let maxID = ModelFiles.list(in: directory).compactMap { Int(URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent) }.max() ?? 0
        var firstID = maxID + 1
        if let start {
            online.publish(start)
        } else if let s = registry.staticSlot.current {
            let warm = s.renamed(id: String(firstID), parentID: s.id, kind: .online)
            firstID += 1
            online.publish(warm)
            start = warm
            logger.info("online model warm-started from the static model", metadata: ["static": "\(s.id)", "id": "\(warm.id)"])
        } else {
            started.withLock { $0 = false }
            return
        }
        guard let start else { return }
        registry.published(start, slot: .online)
        let learner = OnlineLearner(
            slot: online, start: start, firstID: firstID, publishInterval: configuration.publishInterval,
            publishEvery: configuration.publishEvery
        ) { [registry, metrics, database] version in
            registry.published(version, slot: .online)
            metrics.versionsPublished(.online).increment()
            let record = registry.record(version, slot: .online, source: "online", path: nil)
            Task { try? await database.register([record]) }
        }
        registry.attach(learner)
    }

    /// The checkpoint `models/online/CURRENT` names; when that one is refused (missing, damaged,
    /// hostile), the newest other checkpoint file of the directory that reads. Nil without CURRENT (a
    /// fresh start: warm from the static model) or when no checkpoint reads.
    func resumeFromCheckpoint() -> ModelVersion? {
        guard let id = try? String(contentsOfFile: directory + "/CURRENT", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
              !id.isEmpty
        else { return nil }
        // CURRENT names a file of this directory, never a path elsewhere.
        let named = id.contains("/") || id.hasPrefix(".") ? nil : directory + "/\(id).duet"
        if named == nil { logger.error("online CURRENT names no checkpoint of its directory", metadata: ["current": "\(id)"]) }
        let candidates = (named.map { [$0] } ?? []) + ModelFiles.list(in: directory).reversed().filter { $0 != named }
        for path in candidates {
            do {
                let version = try ModelFile.read(path: path)
                if path == named {
                    logger.info("online model resumed from checkpoint", metadata: ["id": "\(version.id)"])
                } else {
                    logger.warning("online model resumed from another checkpoint: CURRENT's was refused",
                                   metadata: ["current": "\(id)", "id": "\(version.id)", "file": "\(path)"])
                }
                return version
            } catch {
                metrics.modelFilesRefused(error.reason).increment()
                logger.error("online checkpoint refused", metadata: ["file": "\(path)", "reason": "\(error.reason.rawValue)", "error": "\(error)"])
            }
        }
        logger.error("no online checkpoint reads; warm-starting from the static model", metadata: ["current": "\(id)"])
        return nil
    }

    /// Writes the current online version to `models/online/<id>.duet` and points CURRENT at it, when it
    /// changed since the last checkpoint; keeps the newest 5 checkpoint files (and every kept version's).
    func checkpoint() async {
        // A checkpoint, once started, finishes: it runs in a task of its own, which the service's
        // cancellation does not reach (when the HTTP server stops first the service group cancels this
        // service, possibly mid-checkpoint, and the database would refuse the registry row).
        await Task { await writeCheckpoint() }.value
    }

    private func writeCheckpoint() async {
        let online = registry.onlineSlot
        guard let v = online.current else { return }
        guard lastCheckpointed.withLock({ $0 }) != v.id else { return }
        let path = directory + "/\(v.id).duet"
        do {
            if !FileManager.default.fileExists(atPath: path) { try ModelFile.write(v, to: path) }
            let tmp = directory + "/.CURRENT.tmp"
            try Data((v.id + "\n").utf8).write(to: URL(fileURLWithPath: tmp))
            guard rename(tmp, directory + "/CURRENT") == 0 else { throw StoreError(message: "rename CURRENT failed") }
            lastCheckpointed.withLock { $0 = v.id }
            try await database.register([registry.record(v, slot: .online, source: "checkpoint", path: path)])
            let files = ModelFiles.list(in: directory)
            let keep = Set(online.versions.map { directory + "/\($0.id).duet" } + [path])
            for old in files.dropLast(5) where !keep.contains(old) { try? FileManager.default.removeItem(atPath: old) }
        } catch {
            logger.error("online checkpoint failed", metadata: ["id": "\(v.id)", "error": "\(error)"])
        }
    }

    /// Pushes the learner's counters to Prometheus (called at scrape time).
    func reportMetrics() {
        guard let stats = registry.learner?.stats else { return }
        let (du, _) = reported.withLock { r -> (Int, Int) in
            defer { r = (stats.updates, stats.published) }
            return (stats.updates - r.updates, stats.published - r.published)
        }
        if du > 0 { metrics.onlineUpdates.increment(by: Int64(du)) }
        if let loss = stats.windowLogloss { metrics.progressiveLogloss(.online).set(to: loss) }
    }

    /// Runs the learner loop and periodic checkpoints until graceful shutdown, then a last publish
    /// and checkpoint.
    func run() async throws {
        let registry = self.registry
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    // The learner may appear later (first static model); poll for it.
                    while !Task.isCancelled {
                        if let learner = registry.learner {
                            await learner.run()
                            return
                        }
                        try? await Task.sleep(for: .milliseconds(50))
                    }
                }
                group.addTask { [self] in
                    while (try? await Task.sleep(for: configuration.checkpointInterval)) != nil {
                        await checkpoint()
                    }
                }
                await group.waitForAll()
            }
        }
        _ = registry.learner?.publishNow()
        await checkpoint()
    }
}
