import DuetModels
import Foundation
import Hummingbird

/// Admin routes for model slots: list, rollback, promote.
extension DuetRuntime {
    struct VersionInfo: Encodable {
        var id: String
        var parent_id: String?
        var kind: String
        var created_at: Double
        var examples: Int
        var logloss: Double?
        var auc: Double?
        var current: Bool
    }

    struct SlotInfo: Encodable {
        var slot: String
        var current: String?
        var versions: [VersionInfo]
    }

    func slotInfo(_ slot: ModelSlot) -> SlotInfo {
        let current = slot.current?.id
        return SlotInfo(slot: slot.name, current: current, versions: slot.versions.reversed().map {
            VersionInfo(id: $0.id, parent_id: $0.parentID, kind: $0.kind.rawValue, created_at: $0.createdAt.timeIntervalSince1970,
                        examples: $0.examples, logloss: $0.metrics.logloss, auc: $0.metrics.auc, current: $0.id == current)
        })
    }

    struct SwapInfo: Encodable {
        var slot: String
        var from: String
        var to: String
        var swap_seconds: Double
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

    func addModelRoutes(to router: Router<BasicRequestContext>) {
        router.get("/v1/admin/models") { [self] request, _ in
            try await metrics.timed("/v1/admin/models") { _ in
                _ = try auth.authenticate(request)
                return try JSONResponse.make(["slots": models.slots.map(slotInfo)])
            }
        }
        router.get("/v1/admin/models/{slot}") { [self] request, context in
            try await metrics.timed("/v1/admin/models/{slot}") { _ in
                _ = try auth.authenticate(request)
                let name = try context.parameters.require("slot")
                guard let slot = models.slot(name) else {
                    throw APIError(.notFound, code: "unknown_slot", message: "no model slot '\(name)' (slots: static, online)")
                }
                return try JSONResponse.make(slotInfo(slot))
            }
        }
        router.post("/v1/admin/models/{slot}/rollback") { [self] request, context in
            try await metrics.timed("/v1/admin/models/{slot}/rollback") { _ in
                let actor = try auth.authenticate(request)
                let name = try context.parameters.require("slot")
                struct Body: Decodable { var to: String? }
                let data = try await body(request)
                let to = data.isEmpty ? nil : try RequestDecoding.decode(Body.self, from: data).to
                let swap = try await models.rollback(slot: name, to: to, actor: actor)
                return try JSONResponse.make(SwapInfo(slot: name, from: swap.from.id, to: swap.to.id, swap_seconds: Self.seconds(swap.duration)))
            }
        }
        router.post("/v1/admin/models/{slot}/promote") { [self] request, context in
            try await metrics.timed("/v1/admin/models/{slot}/promote") { _ in
                let actor = try auth.authenticate(request)
                let name = try context.parameters.require("slot")
                struct Body: Decodable { var version: String }
                let b = try RequestDecoding.decode(Body.self, from: try await body(request))
                let swap = try await models.promote(slot: name, id: b.version, actor: actor)
                return try JSONResponse.make(SwapInfo(slot: name, from: swap.from.id, to: swap.to.id, swap_seconds: Self.seconds(swap.duration)))
            }
        }
    }
}
