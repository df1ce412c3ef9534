import DuetModels
import Foundation
import Logging
import Synchronization

/// The online model's guardrail. Every feedback event is scored by the static and the online model
/// before the learner sees it; per experiment with `guardrails:`, when the online model's log loss
/// over the last `window` events exceeds the static model's by `max_logloss_ratio` (after
/// `min_examples`), or the online model predicts a non-finite value, the online slot is rolled back to
/// the last version that was healthy, and the learner continues from there.
final class Guardrail: Sendable {
    struct Window {
        var staticLoss: [Double]
        var onlineLoss: [Double]
        var index = 0
        var filled = 0
        var seen = 0
        var staticSum = 0.0
        var onlineSum = 0.0
        var lastGoodVersion: String?

        init(size: Int) {
            staticLoss = Array(repeating: 0, count: size)
            onlineLoss = Array(repeating: 0, count: size)
        }

        mutating func add(staticLoss s: Double, onlineLoss o: Double) {
            staticSum += s - staticLoss[index]
            onlineSum += o - onlineLoss[index]
            staticLoss[index] = s
            onlineLoss[index] = o
            index = (index + 1) % staticLoss.count
            filled = min(filled + 1, staticLoss.count)
            seen += 1
        }
    }

    enum Verdict {
        case healthy
        case diverged(String)
    }

    private let windows = Mutex<[String: Window]>([:])
    private let busy = Mutex<Bool>(false)
    let models: ModelRegistry
    let experiments: ExperimentControl
    let logger: Logger

    init(models: ModelRegistry, experiments: ExperimentControl, logger: Logger) {
        self.models = models
        self.experiments = experiments
        self.logger = logger
    }

    /// Scores one feedback event with both models and rolls the online slot back when it diverged.
    func observe(experiment: String, features: [Feature], label: Double) async {
        guard let config = experiments.snapshot.table.experiment(experiment), let rails = config.guardrails,
              let ratio = rails.maxLoglossRatio,
              let staticModel = models.staticSlot.current, let onlineModel = models.onlineSlot.current
        else { return }
        let pStatic = staticModel.predict(features)
        let pOnline = onlineModel.predict(features)
        let size = max(1, rails.window ?? 1000), minExamples = rails.minExamples ?? 100
        let verdict: Verdict = windows.withLock { all in
            var w = all[experiment] ?? Window(size: size)
            if w.staticLoss.count != size { w = Window(size: size) }
            defer { all[experiment] = w }
            guard pOnline.isFinite else { return .diverged("the online model predicted a non-finite value") }
            w.add(staticLoss: ProgressiveMetrics.logloss(p: pStatic, label: label), onlineLoss: ProgressiveMetrics.logloss(p: pOnline, label: label))
            guard w.seen >= minExamples, w.filled > 0 else { return .healthy }
            let s = w.staticSum / Double(w.filled), o = w.onlineSum / Double(w.filled)
            if o > s * ratio {
                return .diverged(String(format: "online log loss %.5f > %.2f × static %.5f over the last %d events", o, ratio, s, w.filled))
            }
            w.lastGoodVersion = onlineModel.id
            return .healthy
        }
        guard case .diverged(let why) = verdict else { return }
        // One rollback at a time; the window restarts after it.
        guard busy.withLock({ b -> Bool in defer { b = true }; return !b }) else { return }
        defer { busy.withLock { $0 = false } }
        let target = windows.withLock { all -> String? in
            let good = all[experiment]?.lastGoodVersion
            all[experiment] = Window(size: size)
            return good
        }
        let to = (target != nil && target != onlineModel.id && models.onlineSlot.version(target!) != nil) ? target : nil
        do {
            let swap = try await models.rollback(slot: .online, to: to, actor: "guardrail:\(experiment)", reason: .guardrail)
            logger.warning("guardrail rolled the online model back", metadata: [
                "experiment": "\(experiment)", "from": "\(swap.from.id)", "to": "\(swap.to.id)", "why": "\(why)",
            ])
        } catch {
            logger.error("guardrail rollback failed", metadata: ["experiment": "\(experiment)", "why": "\(why)", "error": "\(error)"])
        }
    }
}
