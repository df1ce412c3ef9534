import DuetModels
import Foundation
import Logging
import Synchronization

/// The online model's guardrail. Every feedback event is scored by the static and the online model
/// before the learner sees it; per experiment with `guardrails:`, a `GuardrailMonitor` runs a
/// sequential test on the paired log-loss difference. Versions that a whole block of events found
/// no worse are marked healthy in the online slot (the newest `ModelSlot.healthyKept` are kept in
/// memory and on disk). When the test finds the online model worse (or it predicts a non-finite
/// value), the online slot rolls back to the newest healthy version — one from before the block in
/// which the degradation showed — the learner continues from there (its weights and optimizer
/// state), and the rollback is logged, counted (`duet_model_rollbacks_total{reason="guardrail"}`),
/// audited and shown on the status page. Every monitor then starts a new epoch.
final class Guardrail: Sendable {
    private let monitors = Mutex<[String: GuardrailMonitor]>([:])
    private let busy = Mutex<Bool>(false)
    let models: ModelRegistry
    let experiments: ExperimentControl
    let logger: Logger

    init(models: ModelRegistry, experiments: ExperimentControl, logger: Logger) {
        self.models = models
        self.experiments = experiments
        self.logger = logger
    }

    /// Scores one feedback event with both models, marks versions healthy, and rolls the online slot
    /// back when the online model is found worse.
    func observe(experiment: String, predictions: inout EventPredictions, label: Double) async {
        guard let config = experiments.snapshot.table.experiment(experiment), let rails = config.guardrails,
              let ratio = rails.maxLoglossRatio,
              let staticModel = models.staticSlot.current, let onlineModel = models.onlineSlot.current
        else { return }
        let pStatic = predictions.predict(staticModel)
        let pOnline = predictions.predict(onlineModel)
        let window = max(1, rails.window ?? 2000), minExamples = rails.minExamples ?? 500
        let (decision, held) = monitors.withLock { all -> (GuardrailMonitor.Decision, Set<String>?) in
            var m = all[experiment] ?? GuardrailMonitor(ratio: ratio, window: window, minExamples: minExamples)
            if m.ratio != ratio || m.window != window || m.minExamples != minExamples {
                m = GuardrailMonitor(ratio: ratio, window: window, minExamples: minExamples)
            }
            let start = m.blockStart
            let d: GuardrailMonitor.Decision = pOnline.isFinite
                ? m.add(label: label, staticPrediction: pStatic, onlinePrediction: pOnline, onlineVersion: onlineModel.id)
                : .degraded("the online model predicted a non-finite value")
            all[experiment] = m
            // The versions under evaluation change only when a block starts.
            return (d, m.blockStart != start ? Set(all.values.compactMap(\.blockStart)) : nil)
        }
        if let held { models.onlineSlot.hold(held) }
        switch decision {
        case .continuing:
            return
        case .blockEnded(let healthy):
            if let healthy, await models.markHealthy(healthy) {
                logger.info("online version marked healthy", metadata: ["experiment": "\(experiment)", "version": "\(healthy)"])
            }
        case .degraded(let why):
            await rollBack(experiment: experiment, from: onlineModel.id, why: why)
        }
    }

    /// Returns the online slot to its newest healthy version (else the version the failing block
    /// started with), once at a time; every monitor starts over.
    private func rollBack(experiment: String, from current: String, why: String) async {
        guard busy.withLock({ b -> Bool in defer { b = true }; return !b }) else { return }
        defer { busy.withLock { $0 = false } }
        let blockStart = monitors.withLock { all -> String? in
            defer { all = [:] }
            return all[experiment]?.blockStart
        }
        let slot = models.onlineSlot
        let healthy = slot.healthyIDs.last { $0 != current && slot.version($0) != nil }
        let fallback = blockStart.flatMap { $0 != current && slot.version($0) != nil ? $0 : nil }
        guard let target = healthy ?? fallback else {
            logger.error("guardrail: the online model is worse but no earlier version is kept to return to", metadata: [
                "experiment": "\(experiment)", "current": "\(current)", "why": "\(why)",
            ])
            return
        }
        do {
            let swap = try await models.rollback(
                slot: .online, to: target, actor: "guardrail:\(experiment)", reason: .guardrail,
                why: why + (healthy == nil ? " (no version marked healthy yet: back to the version the block started with)" : ""))
            slot.hold([])
            logger.warning("guardrail rolled the online model back", metadata: [
                "experiment": "\(experiment)", "from": "\(swap.from.id)", "to": "\(swap.to.id)",
                "healthy": "\(healthy != nil)", "why": "\(why)",
            ])
        } catch {
            logger.error("guardrail rollback failed", metadata: ["experiment": "\(experiment)", "why": "\(why)", "error": "\(error)"])
        }
    }
}
