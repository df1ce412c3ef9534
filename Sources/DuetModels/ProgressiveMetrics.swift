import Foundation

/// Progressive validation: every example is scored before the model learns from it. Keeps the mean
/// log loss (all examples and a rolling window) and the AUC (from a 4096-bin score histogram).
public struct ProgressiveMetrics: Sendable {
    public private(set) var examples = 0
    public private(set) var weightSum = 0.0
    public private(set) var positives = 0.0
    public private(set) var lossSum = 0.0
    let bins = 4096
    var posHist: [Double]
    var negHist: [Double]
    var window: [Double]
    var windowIndex = 0
    var windowFilled = 0
    var windowSum = 0.0

    public init(window: Int = 10_000) {
        posHist = Array(repeating: 0, count: bins)
        negHist = Array(repeating: 0, count: bins)
        self.window = Array(repeating: 0, count: max(1, window))
    }

    public static func logloss(p: Double, label: Double) -> Double {
        let q = min(max(p, 1e-12), 1 - 1e-12)
        return -(label * log(q) + (1 - label) * log(1 - q))
    }

    public mutating func add(p: Double, label: Double, weight: Double = 1) {
        let loss = Self.logloss(p: p, label: label)
        examples += 1
        weightSum += weight
        positives += label * weight
        lossSum += loss * weight
        let bin = min(bins - 1, max(0, Int(p * Double(bins))))
        posHist[bin] += label * weight
        negHist[bin] += (1 - label) * weight
        windowSum += loss - window[windowIndex]
        window[windowIndex] = loss
        windowIndex = (windowIndex + 1) % window.count
        windowFilled = min(window.count, windowFilled + 1)
    }

    public var logloss: Double? { weightSum > 0 ? lossSum / weightSum : nil }
    public var windowLogloss: Double? { windowFilled > 0 ? windowSum / Double(windowFilled) : nil }

    /// Area under the ROC curve (ties within a bin count half).
    public var auc: Double? {
        let totalPos = posHist.reduce(0, +), totalNeg = negHist.reduce(0, +)
        guard totalPos > 0, totalNeg > 0 else { return nil }
        var negBelow = 0.0, area = 0.0
        for b in 0..<bins {
            area += posHist[b] * (negBelow + negHist[b] / 2)
            negBelow += negHist[b]
        }
        return area / (totalPos * totalNeg)
    }
}
