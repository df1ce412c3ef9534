import Foundation

/// An always-valid interval for the mean of a stream (e.g. the paired log-loss difference, online
/// minus static, per event): look after every observation, stop whenever, and the interval covers
/// the true mean at every time at once with probability ≥ 1 − α. Streaming in O(1) memory,
/// mergeable.
///
/// Observations are clipped into `range` [a, b] first (counted in `clipped`): the interval is for
/// the mean of the clipped observation, so choose a range that clips rarely. The boundary is
/// `NormalMixtureBoundary` (Howard et al. 2021) on S_t = Σ (x_i − μ) with V_t from `variance`:
///
///     mean ± radius(V_t) / n, clamped to [a, b].
///
///     var cs = MeanConfidenceSequence(range: -1...1, plannedCount: 100_000, plannedVariance: 0.01)
///     for d in lossDifferences { cs.add(d); if cs.isSignificant { break } }
///     cs.interval     // e.g. 0.0012...0.0071: online worse than static by that much log loss
public struct MeanConfidenceSequence: Sendable, Equatable, Codable {
    public let boundary: NormalMixtureBoundary
    public let range: ClosedRange<Double>
    public let variance: ConfidenceSequenceVariance
    public private(set) var moments = RunningMoments()
    /// Observations that fell outside `range` and were clipped into it.
    public private(set) var clipped = 0

    public init(range: ClosedRange<Double>, variance: ConfidenceSequenceVariance = .estimated, boundary: NormalMixtureBoundary) {
        precondition(range.lowerBound < range.upperBound && range.lowerBound.isFinite && range.upperBound.isFinite, "range must be finite and non-empty")
        self.range = range
        self.variance = variance
        self.boundary = boundary
    }

    /// ρ tuned to be tightest after `plannedCount` observations of variance `plannedVariance`
    /// (default: the range's worst case, (b − a)²/4).
    public init(
        range: ClosedRange<Double>, variance: ConfidenceSequenceVariance = .estimated, alpha: Double = 0.05, plannedCount: Int,
        plannedVariance: Double? = nil
    ) {
        self.init(range: range, variance: variance, boundary: NormalMixtureBoundary(
            alpha: alpha, plannedCount: plannedCount, range: range, variance: variance, plannedVariance: plannedVariance))
    }

    public var count: Int { moments.count }

    /// Adds one observation (NaN is a programming error).
    public mutating func add(_ x: Double) {
        precondition(!x.isNaN, "observation is NaN")
        if x < range.lowerBound || x > range.upperBound { clipped += 1 }
        moments.add(Swift.min(Swift.max(x, range.lowerBound), range.upperBound))
    }

    /// Adds every observation of `other` (the same range, variance and boundary).
    public mutating func merge(_ other: MeanConfidenceSequence) {
        precondition(range == other.range && variance == other.variance && boundary == other.boundary, "merging different confidence sequences")
        moments.merge(other.moments)
        clipped += other.clipped
    }

    /// The running mean of the (clipped) observations; nil before the first.
    public var mean: Double? { moments.count > 0 ? moments.mean : nil }

    /// The always-valid interval now; nil before the first observation.
    public var interval: ClosedRange<Double>? {
        guard moments.count > 0 else { return nil }
        let half = boundary.radius(variance.intrinsicTime(moments, range: range)) / Double(moments.count)
        return Swift.max(range.lowerBound, moments.mean - half)...Swift.min(range.upperBound, moments.mean + half)
    }

    /// Whether the interval excludes `value` (the hypothesis "mean = value" is rejected at level α).
    public func excludes(_ value: Double) -> Bool {
        guard let i = interval else { return false }
        return !i.contains(value)
    }

    /// The interval excludes 0: the mean is nonzero, at level α, whenever one looks.
    public var isSignificant: Bool { excludes(0) }
}
