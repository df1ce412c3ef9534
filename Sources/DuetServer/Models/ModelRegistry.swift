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

    init(versionsKept: Int, database: DuetDatabase, metrics: DuetMetrics, clock: any WallClock, logger: Logger) {
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

    /// True when both slots serve.
    var isReady: Bool { staticSlot.current != nil && onlineSlot.current != nil }

    /// Makes `version` (read from `path`) the current static version.
    func publishStatic(_ version: ModelVersion, path: String, actor: String) async throws {
        let before = staticSlot.current?.id
        staticSlot.publish(version)
        published(version, slot: .static)
        try await database.register([record(version, slot: .static, source: "file", path: path)])
        try await database.audit([AuditEntry(actor: actor, action: "model.static_loaded", target: SlotName.static.rawValue, before: before, after: version.id)])
        logger.info("static model loaded", metadata: ["id": "\(version.id)", "examples": "\(version.examples)", "by": "\(actor)"])
    }

    func record(_ v: ModelVersion, slot: SlotName, source: String, path: String?) -> ModelVersionRecord {
        ModelVersionRecord(
            slot: slot.rawValue, id: v.id, parentID: v.parentID, kind: v.kind.rawValue, createdAt: v.createdAt.timeIntervalSince1970,
            source: source, examples: v.examples, logloss: v.metrics.logloss, auc: v.metrics.auc, path: path)
    }

    /// Shows a slot's new current version in the metrics.
    func published(_ v: ModelVersion, slot: SlotName) {
        metrics.modelVersion(slot).set(to: Double(v.id) ?? Double(self.slot(slot).versions.count))
        metrics.lastPublish(slot).set(to: clock.now().timeIntervalSince1970)
        if let loss = v.metrics.logloss { metrics.progressiveLogloss(slot).set(to: loss) }
    }

    /// Rolls `slot` back (to `id`, or the previous version), re-points the learner, audits.
    func rollback(slot name: SlotName, to id: String?, actor: String, reason: RollbackReason = .manual) async throws -> ModelSlot.Swap {
        let swap: ModelSlot.Swap
        do { swap = try slot(name).rollback(to: id) } catch let e as SlotError {
            throw ModelError.rollbackRefused(e.description)
        }
        if name == .online { learner?.reset(to: swap.to) }
        metrics.swapDuration.record(swap.duration)
        metrics.rollbacks(slot: name, reason: reason).increment()
        published(swap.to, slot: name)
        try await database.audit([AuditEntry(
            actor: actor, action: reason == .guardrail ? "model.guardrail_rollback" : "model.rollback", target: name.rawValue,
            before: swap.from.id, after: swap.to.id)])
        logger.notice("model rolled back", metadata: ["slot": "\(name)", "from": "\(swap.from.id)", "to": "\(swap.to.id)", "by": "\(actor)", "reason": "\(reason.rawValue)"])
        return swap
    }

    /// Makes a kept version of `slot` current, re-points the learner, audits.
    func promote(slot name: SlotName, id: String, actor: String) async throws -> ModelSlot.Swap {
        let swap: ModelSlot.Swap
        do { swap = try slot(name).promote(id) } catch let e as SlotError {
            throw ModelError.unknownVersion(e.description)
        }
        if name == .online { learner?.reset(to: swap.to) }
        metrics.swapDuration.record(swap.duration)
        published(swap.to, slot: name)
        try await database.audit([AuditEntry(actor: actor, action: "model.promote", target: name.rawValue, before: swap.from.id, after: swap.to.id)])
        return swap
    }

    /// Why a slot was rolled back (a metrics label and the audit action).
    enum RollbackReason: String, Sendable {
        case manual
        case guardrail
    }
}
