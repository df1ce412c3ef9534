import DuetEvaluation
import DuetModels
import Foundation

/// The guardrail's decision for one experiment: a sequential test on the paired log-loss difference
/// of the online and the static model, scored on the same feedback events.
///
/// Each event gives d = loss_online − ratio · loss_static (`max_logloss_ratio`), clipped into
/// [−1, 1] (the interval is for the mean of the clipped d: on honest traffic the models' losses
/// differ by far less except on a few clicks; a wider range would double the variance the test
/// assumes at the start and halve its power). Events are taken in blocks of `window`; block j keeps an always-valid confidence
/// sequence for the mean of d (`MeanConfidenceSequence`: Howard et al. 2021's normal mixture, with
/// the running variance) at level α_j = α / (j (j + 1)), so the chance of any false alarm over all
/// blocks of an epoch is at most Σ α_j = α (5%). Restarting per block is what lets it notice a
/// model that was good for a long time and then degraded: a test over all history would be
/// dominated by the good past.
///
/// - **degraded** when, after `minExamples` events of the block, the interval lies above 0: the
///   online model's loss is significantly more than `ratio` times the static model's;
/// - **healthy**: a block that ends without that, with mean d ≤ 0, and on ordinary traffic marks the
///   version that was current when the block began (it was followed by a whole block without
///   degradation). Ordinary means the block did not click far more than the static model, which
///   never learns, expects: at most 4 standard deviations (+2) above its expected clicks. A burst of
///   bot clicks is not ordinary, and the online model that learned it predicts it better than the
///   static one (d ≪ 0): without this rule the poisoned versions would be marked healthy and a
///   rollback would return to one. It is one-sided so that a drift that lowers click rates (the
///   static model now over-predicts) still lets versions be marked; a drift that raises them much
///   marks none until it passes (a rollback then returns to an older healthy version).
///
/// Assumes the events of a block are independent given the models (one user's events are treated as
/// independent) and that d's running variance is a fair estimate after a few dozen events
/// (the time-uniform CLT; `ConfidenceSequenceVariance.estimated`).
struct GuardrailMonitor: Sendable {
    enum Decision: Equatable {
        case continuing
        case degraded(String)
        /// The block ended: `healthy` is the version it started with when it passed, else nil.
        case blockEnded(healthy: String?)
    }

    static let range = -1.0...1.0
    let ratio: Double
    let window: Int
    let minExamples: Int
    let alpha: Double
    private(set) var block: MeanConfidenceSequence
    private(set) var blockNumber = 1
    /// The online version current when this block began.
    private(set) var blockStart: String?
    /// This block's clicks, and the static model's expected clicks and their variance.
    private(set) var clicks = 0.0, expectedClicks = 0.0, clickVariance = 0.0

    init(ratio: Double, window: Int, minExamples: Int, alpha: Double = 0.05) {
        self.ratio = ratio
        self.window = max(1, window)
        self.minExamples = max(1, minExamples)
        self.alpha = alpha
        self.block = Self.sequence(block: 1, alpha: alpha, window: self.window)
    }

    static func sequence(block j: Int, alpha: Double, window: Int) -> MeanConfidenceSequence {
        MeanConfidenceSequence(
            range: range, alpha: alpha / (Double(j) * Double(j + 1)), plannedCount: window, plannedVariance: 0.01)
    }

    /// α of the current block.
    var blockAlpha: Double { alpha / (Double(blockNumber) * Double(blockNumber + 1)) }

    /// One feedback event scored by both models; `onlineVersion` is the online version that scored it.
    /// One feedback event: its label, each model's prediction, and the online version that scored it.
    mutating func add(label: Double, staticPrediction: Double, onlinePrediction: Double, onlineVersion: String) -> Decision {
        clicks += label
        if staticPrediction.isFinite {
            expectedClicks += staticPrediction
            clickVariance += staticPrediction * (1 - staticPrediction)
        }
        return add(
            staticLoss: ProgressiveMetrics.logloss(p: staticPrediction, label: label),
            onlineLoss: ProgressiveMetrics.logloss(p: onlinePrediction, label: label), onlineVersion: onlineVersion)
    }

    /// Whether this block clicked no more than the static model allows (see above).
    var ordinaryTraffic: Bool { clicks - expectedClicks <= 4 * clickVariance.squareRoot() + 2 }

    mutating func add(staticLoss: Double, onlineLoss: Double, onlineVersion: String) -> Decision {
        if blockStart == nil { blockStart = onlineVersion }
        let d = onlineLoss - ratio * staticLoss
        guard d.isFinite else { return .degraded("the online model's log loss is not finite") }
        block.add(d)
        if block.count >= minExamples, let i = block.interval, i.lowerBound > 0 {
            return .degraded(String(
                format: "online log loss − %.2f × static = %+.5f per event, always-valid %.4g%% interval [%+.5f, %+.5f] over %d events (block %d)",
                ratio, block.mean ?? 0, 100 * (1 - blockAlpha), i.lowerBound, i.upperBound, block.count, blockNumber))
        }
        guard block.count >= window else { return .continuing }
        let healthy = (block.mean ?? 1) <= 0 && ordinaryTraffic ? blockStart : nil
        blockNumber += 1
        block = Self.sequence(block: blockNumber, alpha: alpha, window: window)
        blockStart = onlineVersion
        (clicks, expectedClicks, clickVariance) = (0, 0, 0)
        return .blockEnded(healthy: healthy)
    }
}
