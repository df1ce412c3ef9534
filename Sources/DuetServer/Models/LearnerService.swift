import DuetCluster
import DuetModels
import DuetRouting
import DuetStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The online learner's life: it starts from the checkpoint named in `models/online/CURRENT` (that
/// one refused: the newest checkpoint that reads), or warm from the static model (or, with neither,
/// waits for the first static model), with the optimizer state saved in that file (else the one in
/// the static model's file, else fresh: the log says which), and first learns again what the
/// feedback log holds past that start; it runs the learner loop and writes a checkpoint every
/// `checkpointInterval`, each with the log sequence it has learned through and the optimizer state,
/// and trims the log behind the oldest checkpoint kept; on graceful shutdown it publishes what it
/// learned, writes a last checkpoint and closes the log.
final class LearnerService: Service, Sendable {
    struct Configuration: Sendable {
        var publishInterval: Duration
        var publishEvery: Int
        var checkpointInterval: Duration
    }

    let directory: String
    let log: FeedbackLog
    let reservation: VersionIDReservation
    let registry: ModelRegistry
    let configuration: Configuration
    let database: DuetDatabase
    let metrics: DuetMetrics
    let logger: Logger
    private let started = Mutex<Bool>(false)
    private let lastCheckpointed = Mutex<String?>(nil)
    /// The highest online version id published in this process.
    private let highestPublished = Mutex<Int>(0)
    /// Checkpoint files refused at start (counted and logged once, not read again).
    private let refusedFiles = Mutex<Set<String>>([])
    /// The log sequence each checkpoint file written or resumed in this process has learned through.
    private let checkpointOffsets = Mutex<[String: UInt64]>([:])
    /// Counters already pushed to Prometheus (metrics are deltas of the learner's totals).
    private let reported = Mutex<(updates: Int, published: Int)>((0, 0))

    init(dataDirectory: String, configuration: Configuration, log: FeedbackLog, registry: ModelRegistry, database: DuetDatabase, metrics: DuetMetrics, logger: Logger) throws {
        directory = dataDirectory + "/models/online"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let freed = ModelFiles.removeInterruptedWrites(in: directory)
        if freed > 0 { logger.warning("removed interrupted checkpoint writes", metadata: ["directory": "\(directory)", "bytes": "\(freed)"]) }
        self.log = log
        reservation = try VersionIDReservation(directory: directory)
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
        let resumed = resumeFromCheckpoint()
        var start = resumed?.version
        var optimizerState = resumed?.optimizerState
        var stateOrigin = resumed.map { "checkpoint \($0.version.id)" } ?? ""
        let maxID = ModelFiles.list(in: directory).compactMap { Int(URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent) }.max() ?? 0
        // After every id ever reserved: a crash may have published (and served) ids past the last checkpoint.
        var firstID = max(maxID, reservation.highest) + 1
        try reservation.reserve(through: firstID)
        if let start {
            online.publish(start)
            let healthy: [String]
            do { healthy = try await database.healthyVersionIDs(slot: SlotName.online.rawValue, limit: ModelSlot.healthyKept) } catch {
                logger.error("online health marks not read: none restored", metadata: ["error": "\(error)"])
                healthy = []
            }
            restoreHistory(current: start, healthy: healthy)
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
        if optimizerState == nil, let s = registry.staticSlot.current {
            optimizerState = registry.savedOptimizerState(slot: .static, id: s.id, config: start.config)
            stateOrigin = "static model \(s.id)"
        }
        if optimizerState != nil {
            logger.info("online learner continues with a saved optimizer state", metadata: ["from": "\(stateOrigin)", "id": "\(start.id)"])
        } else {
            logger.warning(
                "online learner starts its optimizer state fresh: neither its start nor the static model file saved one (its first steps are large)",
                metadata: ["id": "\(start.id)"])
        }
        try log.skip(past: start.feedbackOffset)
        registry.published(start, slot: .online)
        let learner = OnlineLearner(
            slot: online, start: start, optimizerState: optimizerState, firstID: firstID, publishInterval: configuration.publishInterval,
            publishEvery: configuration.publishEvery
        ) { [self, registry, metrics, database, reservation, logger] version in
            highestPublished.withLock { $0 = max($0, Int(version.id) ?? 0) }
            do { try reservation.reserve(through: (Int(version.id) ?? 0) + 1) } catch {
                logger.error("online version ids could not be reserved; a crash now may reuse ids", metadata: ["error": "\(error)"])
            }
            registry.published(version, slot: .online)
            metrics.versionsPublished(.online).increment()
            let record = registry.record(version, slot: .online, source: "online", path: nil)
            Task { try? await database.register([record]) }
        }
        replayLog(into: learner, after: start.feedbackOffset)
        registry.attach(learner)
    }

    /// Learns again, in order, every logged event past `offset` (what the start version has not
    /// learned: feedback acknowledged after its checkpoint).
    private func replayLog(into learner: OnlineLearner, after offset: UInt64) {
        let t0 = ContinuousClock.now
        var batch: [OnlineLearner.Example] = []
        var replayed = 0, unreadable = 0
        do {
            try log.records(after: offset) { record in
                guard let r = FeedbackRecord(bytes: record.payload) else {
                    unreadable += 1
                    return
                }
                batch.append(OnlineLearner.Example(features: r.features, label: r.label, sequence: record.sequence))
                if batch.count == 10_000 {
                    learner.replay(batch)
                    replayed += batch.count
                    batch.removeAll(keepingCapacity: true)
                }
            }
        } catch {
            logger.error("feedback log replay stopped", metadata: ["error": "\(error)", "replayed": "\(replayed)"])
        }
        learner.replay(batch)
        replayed += batch.count
        guard replayed + unreadable > 0 else { return }
        if unreadable > 0 { logger.error("feedback log records of another format skipped", metadata: ["records": "\(unreadable)"]) }
        _ = learner.publishNow()
        logger.info("feedback log replayed", metadata: [
            "after": "\(offset)", "events": "\(replayed)", "through": "\(learner.stats.learnedThrough)",
            "ms": "\((ContinuousClock.now - t0).components.seconds * 1000 + (ContinuousClock.now - t0).components.attoseconds / 1_000_000_000_000_000)",
        ])
    }

    /// Puts the other checkpoint files back into the slot's history (oldest first), so a rollback
    /// reaches past a restart, and the health marks saved in SQLite (`healthy`, oldest first) on the
    /// versions read back. The directory holds the newest 5 checkpoints, the thinned history's and
    /// the pinned, held and healthy versions' (`writeCheckpoint`), so all are read. Each is a whole
    /// copy of the weights in memory (they share no pages with each other).
    private func restoreHistory(current: ModelVersion, healthy: [String]) {
        let slot = registry.onlineSlot
        let refused = refusedFiles.withLock { $0 }
        let files = ModelFiles.list(in: directory).filter { $0 != directory + "/\(current.id).duet" && !refused.contains($0) }
        var older: [ModelVersion] = []
        for path in files {
            do {
                let v = try ModelFile.read(path: path)
                older.append(v)
                checkpointOffsets.withLock { $0[path] = v.feedbackOffset }
            } catch {
                metrics.modelFilesRefused(error.reason).increment()
                logger.error("online checkpoint refused", metadata: ["file": "\(path)", "reason": "\(error.reason.rawValue)", "error": "\(error)"])
            }
        }
        older.sort { (Int($0.id) ?? 0, $0.id) < (Int($1.id) ?? 0, $1.id) }
        slot.restore(older.filter { (Int($0.id) ?? 0) < (Int(current.id) ?? Int.max) }, healthy: healthy)
        if !older.isEmpty { logger.info("online history restored from checkpoints", metadata: ["versions": "\(older.map(\.id).joined(separator: ","))"]) }
        if !slot.healthyIDs.isEmpty { logger.info("online health marks restored", metadata: ["healthy": "\(slot.healthyIDs.joined(separator: ","))"]) }
    }

    /// The checkpoint `models/online/CURRENT` names; when that one is refused (missing, damaged,
    /// hostile), the newest other checkpoint file of the directory that reads, with the optimizer
    /// state saved in it (nil in files written without one). Nil without CURRENT (a fresh start: warm
    /// from the static model) or when no checkpoint reads.
    func resumeFromCheckpoint() -> (version: ModelVersion, optimizerState: OptimizerState?)? {
        guard let id = try? String(contentsOfFile: directory + "/CURRENT", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
              !id.isEmpty
        else { return nil }
        // CURRENT names a file of this directory, never a path elsewhere.
        let named = id.contains("/") || id.hasPrefix(".") ? nil : directory + "/\(id).duet"
        if named == nil { logger.error("online CURRENT names no checkpoint of its directory", metadata: ["current": "\(id)"]) }
        let candidates = (named.map { [$0] } ?? []) + ModelFiles.list(in: directory).reversed().filter { $0 != named }
        for path in candidates {
            do {
                let (version, optimizerState) = try ModelFile.readWithOptimizerState(path: path)
                if path == named {
                    logger.info("online model resumed from checkpoint", metadata: ["id": "\(version.id)"])
                } else {
                    logger.warning("online model resumed from another checkpoint: CURRENT's was refused",
                                   metadata: ["current": "\(id)", "id": "\(version.id)", "file": "\(path)"])
                }
                checkpointOffsets.withLock { $0[path] = version.feedbackOffset }
                return (version, optimizerState)
            } catch {
                refusedFiles.withLock { _ = $0.insert(path) }
                metrics.modelFilesRefused(error.reason).increment()
                logger.error("online checkpoint refused", metadata: ["file": "\(path)", "reason": "\(error.reason.rawValue)", "error": "\(error)"])
            }
        }
        logger.error("no online checkpoint reads; warm-starting from the static model", metadata: ["current": "\(id)"])
        return nil
    }

    /// Writes the current online version to `models/online/<id>.duet` and points CURRENT at it, when it
    /// changed since the last checkpoint; keeps the newest 5 checkpoint files, the thinned history of
    /// the others (by file time, `ModelSlot.history`), and every kept version's.
    /// The learner publishes what it learned first, and the file carries its optimizer state (unless
    /// the current version is not the learner's last, after a rollback it has not taken up yet).
    func checkpoint() async {
        // A checkpoint, once started, finishes: it runs in a task of its own, which the service's
        // cancellation does not reach (when the HTTP server stops first the service group cancels this
        // service, possibly mid-checkpoint, and the database would refuse the registry row).
        await Task(executorPreference: BackgroundExecutor.shared) { [self] in await writeCheckpoint() }.value
    }

    private func writeCheckpoint() async {
        let online = registry.onlineSlot
        // A pinned, held or healthy version is kept on disk too, so it survives a restart.
        for id in online.durableIDs {
            let pinnedPath = directory + "/\(id).duet"
            guard let pv = online.version(id), !FileManager.default.fileExists(atPath: pinnedPath) else { continue }
            do {
                try ModelFile.write(pv, to: pinnedPath)
                checkpointOffsets.withLock { $0[pinnedPath] = pv.feedbackOffset }
                try await database.register([registry.record(pv, slot: .online, source: "kept", path: pinnedPath)])
            } catch {
                logger.error("pinned online version not written", metadata: ["id": "\(id)", "error": "\(error)"])
            }
        }
        let snapshot = registry.learner?.checkpointState()
        guard let v = online.current else { return }
        guard lastCheckpointed.withLock({ $0 }) != v.id else { return }
        let path = directory + "/\(v.id).duet"
        do {
            if !FileManager.default.fileExists(atPath: path) {
                try ModelFile.write(v, optimizerState: snapshot?.version === v ? snapshot?.optimizerState : nil, to: path)
            }
            try ModelFiles.writeText(v.id + "\n", to: directory + "/CURRENT")
            lastCheckpointed.withLock { $0 = v.id }
            checkpointOffsets.withLock { $0[path] = v.feedbackOffset }
            try await database.register([registry.record(v, slot: .online, source: "checkpoint", path: path)])
            try await database.thinModelVersions(slot: SlotName.online.rawValue, keep: online.keptIDs)
            let files = ModelFiles.list(in: directory)
            let history = ModelSlot.history(files.map { ($0, ModelFiles.modified($0)) }, now: Date())
            let keep = Set(online.versions.map { directory + "/\($0.id).duet" } + online.keptIDs.map { directory + "/\($0).duet" } + [path])
                .union(history)
            for old in files.dropLast(5) where !keep.contains(old) { try? FileManager.default.removeItem(atPath: old) }
            trimLog()
        } catch {
            logger.error("online checkpoint failed", metadata: ["id": "\(v.id)", "error": "\(error)"])
        }
    }

    /// Deletes the log segments every kept checkpoint has learned: any of them may be the one a
    /// restart resumes from (a damaged newer one falls back to an older), so the oldest decides.
    /// Files whose offset this process never read (older than the restored history, or pinned
    /// ones read by the registry) do not hold the log back.
    private func trimLog() {
        let files = ModelFiles.list(in: directory)
        let oldest = checkpointOffsets.withLock { offsets -> UInt64 in
            offsets = offsets.filter { files.contains($0.key) }
            return offsets.values.min() ?? 0
        }
        guard oldest > 0 else { return }
        let n = log.trim(through: oldest)
        if n > 0 { logger.debug("feedback log trimmed", metadata: ["segments": "\(n)", "through": "\(oldest)"]) }
    }

    /// Pushes the learner's counters to Prometheus (called at scrape time).
    func reportMetrics() {
        let written = log.lastSequence
        metrics.feedbackLogSequence.set(to: Double(written))
        guard let stats = registry.learner?.stats else { return }
        metrics.feedbackLogLearned.set(to: Double(stats.learnedThrough))
        metrics.learnerQueue.set(to: Double(stats.queued))
        metrics.feedbackLogLag.set(to: Double(written > stats.learnedThrough ? written - stats.learnedThrough : 0))
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
                // On a thread of its own: under steady feedback the loop learns without suspending.
                group.addTask(executorPreference: BackgroundExecutor.learner) {
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
        log.close()
        let last = max(highestPublished.withLock { $0 }, Int(registry.onlineSlot.current?.id ?? "") ?? 0)
        if last > 0 {
            do { try reservation.settle(at: last) } catch {
                logger.error("could not record the last online version id", metadata: ["error": "\(error)"])
            }
        }
    }
}
