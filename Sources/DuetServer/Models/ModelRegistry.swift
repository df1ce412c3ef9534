import DuetModels
import DuetRouting
import DuetStore
import Foundation
import Logging
import Synchronization

/// The model slots of a running server, by `SlotName`, and every change to them that is not the
/// learner's own publishing: static versions loaded from files, rollbacks and promotes. Each change
/// is registered in SQLite, audited, and shown in the metrics. A rollback or promote of the online
/// slot re-points the learner (when one runs) at the new current version.
public final class ModelRegistry: Sendable {
    public let staticSlot: ModelSlot
    public let onlineSlot: ModelSlot
    let database: DuetDatabase
    let metrics: DuetMetrics
    let clock: any WallClock
    let logger: Logger
    private let learnerBox = Mutex<OnlineLearner?>(nil)
    private let brokenPins = Mutex<[String]>([])
    private let pinnedExperiments = Mutex<[ExperimentConfig]>([])
    private let lastGuardrail = Mutex<GuardrailRollback?>(nil)

    /// The guardrail's last rollback, for the status page.
    struct GuardrailRollback: Sendable {
        var at: Date
        var actor: String
        var from: String
        var to: String
        var why: String
    }

    var lastGuardrailRollback: GuardrailRollback? { lastGuardrail.withLock { $0 } }

    /// `models/static/CURRENT`: the static version an operator chose (promote or rollback), kept
    /// across restarts; a new static file arriving replaces the choice (a deploy is a choice too).
    let staticChoicePath: String?
    /// Where each slot's version files are (`models/static`, `models/online`): a pin to a version
    /// no longer in memory is read back from there.
    let versionDirectories: [SlotName: String]

    init(versionsKept: Int, database: DuetDatabase, metrics: DuetMetrics, clock: any WallClock, logger: Logger, dataDirectory: String? = nil) {
        staticChoicePath = dataDirectory.map { $0 + "/models/static/CURRENT" }
        versionDirectories = dataDirectory.map { d in [.static: d + "/models/static", .online: d + "/models/online"] } ?? [:]
        staticSlot = ModelSlot(name: SlotName.static.rawValue, capacity: versionsKept)
        onlineSlot = ModelSlot(name: SlotName.online.rawValue, capacity: versionsKept)
        self.database = database
        self.metrics = metrics
        self.clock = clock
        self.logger = logger
    }

    public var slots: [ModelSlot] { SlotName.allCases.map(slot) }

    public func slot(_ name: SlotName) -> ModelSlot {
        switch name {
        case .static: staticSlot
        case .online: onlineSlot
        }
    }

    /// The slot name `text` spells, or `ModelError.unknownSlot`.
    public static func slotName(_ text: String) throws -> SlotName {
        guard let name = SlotName(rawValue: text) else { throw ModelError.unknownSlot(text) }
        return name
    }

    /// The online learner, once it runs (set by `LearnerService`).
    public var learner: OnlineLearner? { learnerBox.withLock { $0 } }

    func attach(_ learner: OnlineLearner) { learnerBox.withLock { $0 = learner } }

    /// True when both slots serve and every pinned version of a live experiment is there.
    var isReady: Bool { staticSlot.current != nil && onlineSlot.current != nil && brokenPins.withLock { $0.isEmpty } }

    /// The arms whose pinned version no slot keeps ("experiment arm: static@x …"), as last checked.
    var pinProblems: [String] { brokenPins.withLock { $0 } }

    /// Checks the pins again when some were missing (a static file or checkpoint may have brought one).
    func recheckPins() {
        guard !brokenPins.withLock({ $0.isEmpty }) else { return }
        holdPins(of: pinnedExperiments.withLock { $0 })
    }

    /// Makes the version `reference` pins servable if it can be: one the slot no longer holds in
    /// memory is read back from its file (`models/<slot>/<id>.duet`). Nil when it is servable,
    /// else why not.
    func makeServable(_ reference: ModelReference) -> String? {
        guard let id = reference.version else { return nil }
        let s = slot(reference.slot)
        guard s.version(id) == nil else { return nil }
        if let dir = versionDirectories[reference.slot], !id.contains("/"), !id.hasPrefix("."),
           FileManager.default.fileExists(atPath: dir + "/\(id).duet") {
            do {
                let v = try ModelFile.read(path: dir + "/\(id).duet")
                s.pin(s.pinnedIDs.union([id]))  // held from now on (the next `holdPins` settles the set)
                s.restore([reference.slot == .static ? v.renamed(id: id, parentID: v.parentID, kind: .static) : v])
                logger.info("pinned version read back from its file", metadata: ["version": "\(reference)"])
                if s.version(id) != nil { return nil }
            } catch {
                metrics.modelFilesRefused(error.reason).increment()
                return "\(reference): its file \(dir)/\(id).duet is refused: \(error)"
            }
        }
        return "\(reference) is not a version the \(reference.slot.rawValue) slot keeps (kept: \(s.versions.map(\.id).joined(separator: ", ")))"
    }

    /// Holds every version the live `experiments` pin (memory: beyond `versionsKept`; disk: the
    /// learner keeps their checkpoint files) and records the arms whose pin is missing: while any
    /// is, the server is not ready. Logs each missing pin once per check.
    func holdPins(of experiments: [ExperimentConfig]) {
        var problems: [String] = []
        for slotName in SlotName.allCases {
            let ids = Set(experiments.flatMap { $0.arms.map(\.model) }.filter { $0.slot == slotName }.compactMap(\.version))
            slot(slotName).pin(ids)
        }
        for e in experiments where e.status == .running {
            for arm in e.arms {
                if let p = makeServable(arm.model) { problems.append("experiment \(e.key) arm \(arm.name): \(p)") }
            }
        }
        pinnedExperiments.withLock { $0 = experiments }
        let before = brokenPins.withLock { b in defer { b = problems }; return b }
        for p in problems where !before.contains(p) { logger.error("pinned model version missing: not ready", metadata: ["problem": "\(p)"]) }
        if problems.isEmpty && !before.isEmpty { logger.info("every pinned model version is there again") }
    }

    /// Makes `version` (read from `path`) the current static version.
    func publishStatic(_ version: ModelVersion, path: String, actor: String) async throws {
        let before = staticSlot.current?.id
        staticSlot.publish(version)
        published(version, slot: .static)
        recheckPins()
        if actor != "startup", let p = staticChoicePath, FileManager.default.fileExists(atPath: p) {
            try? FileManager.default.removeItem(atPath: p)
            logger.info("a new static file replaces the operator's static choice", metadata: ["id": "\(version.id)"])
        }
        try await database.register([record(version, slot: .static, source: "file", path: path)])
        try await database.audit([AuditEntry(actor: actor, action: "model.static_loaded", target: SlotName.static.rawValue, before: before, after: version.id)])
        logger.info("static model loaded", metadata: ["id": "\(version.id)", "examples": "\(version.examples)", "by": "\(actor)"])
    }

    func record(_ v: ModelVersion, slot: SlotName, source: String, path: String?) -> ModelVersionRecord {
        ModelVersionRecord(
            slot: slot.rawValue, id: v.id, parentID: v.parentID, kind: v.kind.rawValue, createdAt: v.createdAt.timeIntervalSince1970,
            source: source, examples: v.examples, logloss: v.metrics.logloss, auc: v.metrics.auc, path: path)
    }

    /// Marks the online version `id` healthy (the guardrail's verdict) and saves the mark in SQLite,
    /// so it survives a restart. False when the slot no longer keeps the version.
    func markHealthy(_ id: String) async -> Bool {
        guard let v = onlineSlot.version(id), onlineSlot.markHealthy(id) else { return false }
        do {
            try await database.markHealthy(record(v, slot: .online, source: "online", path: nil), at: clock.now().timeIntervalSince1970)
        } catch {
            logger.error("health mark not saved: a restart forgets it", metadata: ["version": "\(id)", "error": "\(error)"])
        }
        return true
    }

    /// Shows a slot's new current version in the metrics.
    func published(_ v: ModelVersion, slot: SlotName) {
        metrics.modelVersion(slot).set(to: Double(v.id) ?? Double(self.slot(slot).versions.count))
        metrics.lastPublish(slot).set(to: clock.now().timeIntervalSince1970)
        if let loss = v.metrics.logloss { metrics.progressiveLogloss(slot).set(to: loss) }
    }

    /// Where rollbacks go in cluster mode (every replica makes them); nil: this process only.
    private let distributor = Mutex<(any ChangeDistributor)?>(nil)

    func distribute(through d: any ChangeDistributor) { distributor.withLock { $0 = d } }

    /// Rolls `slot` back (to `id`, or the previous version), re-points the learner, audits. In cluster
    /// mode every replica makes the same rollback (each keeps the versions the trainer published; the
    /// trainer also re-points its learner and announces the version).
    func rollback(slot name: SlotName, to id: String?, actor: String, reason: RollbackReason = .manual, why: String? = nil) async throws -> ModelSlot.Swap {
        guard let d = distributor.withLock({ $0 }) else { return try await rollbackHere(slot: name, to: id, actor: actor, reason: reason, why: why) }
        let s = slot(name)
        guard let now = s.current else { throw ModelError.rollbackRefused(SlotError.empty(name.rawValue).description) }
        let target: String
        if let id {
            guard s.version(id) != nil else { throw ModelError.rollbackRefused(SlotError.unknownVersion(name.rawValue, id, s.versions.map(\.id)).description) }
            target = id
        } else {
            guard let i = s.versions.lastIndex(where: { $0.id == now.id }), i > 0 else {
                throw ModelError.rollbackRefused(SlotError.noPrevious(name.rawValue, now.id).description)
            }
            target = s.versions[i - 1].id
        }
        return try await d.distributeSwap(slot: name, to: target, promote: false, actor: actor, reason: reason, why: why)
    }

    /// `rollback` on this replica only.
    func rollbackHere(slot name: SlotName, to id: String?, actor: String, reason: RollbackReason = .manual, why: String? = nil) async throws -> ModelSlot.Swap {
        let swap: ModelSlot.Swap
        do { swap = try slot(name).rollback(to: id) } catch let e as SlotError {
            throw ModelError.rollbackRefused(e.description)
        }
        await settle(name, on: swap.to)
        metrics.swapDuration.record(swap.duration)
        metrics.rollbacks(slot: name, reason: reason).increment()
        if reason == .guardrail {
            lastGuardrail.withLock { $0 = GuardrailRollback(at: clock.now(), actor: actor, from: swap.from.id, to: swap.to.id, why: why ?? "") }
        }
        published(swap.to, slot: name)
        try await database.audit([AuditEntry(
            actor: actor, action: reason == .guardrail ? "model.guardrail_rollback" : "model.rollback", target: name.rawValue,
            before: swap.from.id, after: swap.to.id)])
        logger.notice("model rolled back", metadata: ["slot": "\(name)", "from": "\(swap.from.id)", "to": "\(swap.to.id)", "by": "\(actor)", "reason": "\(reason.rawValue)"])
        return swap
    }

    /// The version that serves `ref`: its pinned version when kept, else the slot's current one; nil
    /// when there is none.
    func serving(_ ref: ModelReference) -> ModelVersion? {
        let kept = self.slot(ref.slot)
        if let pinned = ref.version { return kept.version(pinned) }
        return kept.current
    }

    /// Makes a kept version of `slot` current, re-points the learner, audits.
    func promote(slot name: SlotName, id: String, actor: String) async throws -> ModelSlot.Swap {
        if let d = distributor.withLock({ $0 }) {
            guard slot(name).version(id) != nil else {
                throw ModelError.unknownVersion(SlotError.unknownVersion(name.rawValue, id, slot(name).versions.map(\.id)).description)
            }
            return try await d.distributeSwap(slot: name, to: id, promote: true, actor: actor, reason: .manual, why: nil)
        }
        return try await promoteHere(slot: name, id: id, actor: actor)
    }

    /// `promote` on this replica only.
    func promoteHere(slot name: SlotName, id: String, actor: String) async throws -> ModelSlot.Swap {
        let swap: ModelSlot.Swap
        do { swap = try slot(name).promote(id) } catch let e as SlotError {
            throw ModelError.unknownVersion(e.description)
        }
        await settle(name, on: swap.to)
        metrics.swapDuration.record(swap.duration)
        published(swap.to, slot: name)
        try await database.audit([AuditEntry(actor: actor, action: "model.promote", target: name.rawValue, before: swap.from.id, after: swap.to.id)])
        return swap
    }

    /// What follows a swap to `version`: the online learner re-pointed there (it reads the version's
    /// checkpoint, tens of MB), or the static choice written (with `fsync`). On the background
    /// threads: a guardrail rollback runs inside a feedback request, on an event loop.
    private func settle(_ name: SlotName, on version: ModelVersion) async {
        await BackgroundExecutor.shared.run { [self] in
            if name == .online { repointLearner(to: version) }
            if name == .static { rememberStaticChoice(version.id) }
        }
    }

    /// Writes the operator's static choice (atomically); a failure is logged, the swap stands.
    private func rememberStaticChoice(_ id: String) {
        guard let path = staticChoicePath else { return }
        do {
            try ModelFiles.writeText(id + "\n", to: path)
        } catch {
            logger.error("the static choice was not saved: a restart serves the newest static file", metadata: ["id": "\(id)", "error": "\(error)"])
        }
    }

    /// At start, after the static files are loaded: makes the operator's saved choice current again.
    func restoreStaticChoice() {
        guard let path = staticChoicePath,
              let id = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines), !id.isEmpty
        else { return }
        guard staticSlot.current?.id != id else { return }
        do {
            let swap = try staticSlot.promote(id)
            published(swap.to, slot: .static)
            logger.info("static model: the operator's choice restored", metadata: ["id": "\(id)", "newest": "\(swap.from.id)"])
        } catch {
            logger.warning("static model: the operator's choice is not loaded; serving the newest file", metadata: ["choice": "\(id)", "error": "\(error)"])
        }
    }

    /// Why a slot was rolled back (a metrics label and the audit action).
    enum RollbackReason: String, Sendable, Codable {
        case manual
        case guardrail
    }
}
