import DuetModels
import DuetRouting
import Foundation
import Logging

extension ModelRegistry {
    /// The optimizer state saved in the file of `slot`'s version `id` (`models/<slot>/<id>.duet`):
    /// nil when there is no such file, it has no state, or its state does not fit `config`. A file
    /// that is refused is logged and counted (`duet_model_files_refused_total`), and nil returned.
    func savedOptimizerState(slot: SlotName, id: String, config: ModelConfig) -> OptimizerState? {
        guard let dir = versionDirectories[slot], !id.contains("/"), !id.hasPrefix(".") else { return nil }
        let path = dir + "/\(id).duet"
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            guard let state = try ModelFile.readWithOptimizerState(path: path).optimizerState else { return nil }
            guard state.fits(config) else {
                logger.warning("optimizer state not used: it belongs to a model of another shape", metadata: [
                    "file": "\(path)", "optimizer": "\(state.optimizer.rawValue)",
                    "wanted": "\(config.optimizer.rawValue) bits=\(config.bits) k=\(config.k)",
                ])
                return nil
            }
            return state
        } catch {
            metrics.modelFilesRefused(error.reason).increment()
            logger.error("model file refused while reading its optimizer state",
                         metadata: ["file": "\(path)", "reason": "\(error.reason.rawValue)", "error": "\(error)"])
            return nil
        }
    }

    /// Re-points the learner (when one runs) at `version` after a rollback or promote: its weights,
    /// and the optimizer state of its checkpoint file when there is one. Without one the learner
    /// keeps its own accumulators, which are at least `version`'s (they only grow), so its steps are
    /// no larger than `version`'s would have been; the log says which.
    func repointLearner(to version: ModelVersion) {
        guard let learner else { return }
        let state = savedOptimizerState(slot: .online, id: version.id, config: version.config)
        learner.reset(to: version, optimizerState: state)
        logger.info("online learner re-pointed", metadata: [
            "id": "\(version.id)",
            "optimizer_state": "\(state == nil ? "kept the learner's own (no checkpoint file with a state)" : "from the version's checkpoint file")",
        ])
    }
}
