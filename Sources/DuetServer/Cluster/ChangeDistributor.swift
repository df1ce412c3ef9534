import DuetModels
import DuetRouting
import DuetStore

/// Has every replica apply a change made on one: experiment applies and reverts
/// (`ExperimentControl.applyHere`) and model rollbacks. Returns this replica's own result.
protocol ChangeDistributor: Sendable {
    func distributeExperiments(_ files: [(file: String, yaml: String)], actor: String, revertedFrom: Int?) async throws -> [ExperimentRevision]
    /// A rollback (or, with `promote`, a promote) of `slot` to the kept version `id`.
    func distributeSwap(slot: SlotName, to id: String, promote: Bool, actor: String, reason: ModelRegistry.RollbackReason, why: String?) async throws -> ModelSlot.Swap
}
