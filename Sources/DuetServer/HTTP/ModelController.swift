import DuetAPI
import DuetModels
import DuetRouting
import Hummingbird

/// The admin routes for model slots: list, rollback, promote.
struct ModelController: Sendable {
    let models: ModelRegistry
    let body: BodyLimit

    func addRoutes(to admin: RouterGroup<DuetRequestContext>) {
        admin.get("models") { _, _ in
            try JSONResponse.make(SlotList(slots: models.slots.map(Self.info)))
        }
        admin.get("models/{slot}") { _, context in
            try JSONResponse.make(Self.info(models.slot(try ModelRegistry.slotName(try context.parameters.require("slot")))))
        }
        admin.post("models/{slot}/rollback") { request, context in
            let slot = try ModelRegistry.slotName(try context.parameters.require("slot"))
            let data = try await body.data(request, context: context)
            let to = data.isEmpty ? nil : try RequestDecoding.decode(RollbackRequest.self, from: data).to
            let swap = try await models.rollback(slot: slot, to: to, actor: context.actor ?? "")
            return try JSONResponse.make(Self.info(swap, slot: slot.rawValue))
        }
        admin.post("models/{slot}/promote") { request, context in
            let slot = try ModelRegistry.slotName(try context.parameters.require("slot"))
            let b = try RequestDecoding.decode(PromoteRequest.self, from: try await body.data(request, context: context))
            let swap = try await models.promote(slot: slot, id: b.version, actor: context.actor ?? "")
            return try JSONResponse.make(Self.info(swap, slot: slot.rawValue))
        }
    }

    static func info(_ slot: ModelSlot) -> SlotInfo {
        let current = slot.current?.id, healthy = Set(slot.healthyIDs), pinned = slot.pinnedIDs, history = slot.historyIDs
        return SlotInfo(slot: slot.name, current: current, versions: slot.versions.reversed().map { v in
            let reasons = [("pinned", pinned), ("healthy", healthy), ("history", history)].filter { $0.1.contains(v.id) }.map(\.0)
            return SlotInfo.Version(
                id: v.id, parentID: v.parentID, kind: v.kind.rawValue, createdAt: v.createdAt.timeIntervalSince1970,
                examples: v.examples, logloss: v.metrics.logloss, auc: v.metrics.auc, current: v.id == current,
                healthy: healthy.contains(v.id), keptFor: reasons.isEmpty ? nil : reasons)
        })
    }

    static func info(_ swap: ModelSlot.Swap, slot: String) -> SwapInfo {
        let d = swap.duration.components
        return SwapInfo(slot: slot, from: swap.from.id, to: swap.to.id, swapSeconds: Double(d.seconds) + Double(d.attoseconds) / 1e18)
    }
}
