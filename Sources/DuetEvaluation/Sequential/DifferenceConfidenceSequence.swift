import Foundation

/// An always-valid interval for the difference of two means, treatment − control (e.g. CTR per arm
/// with the user as the unit: one observation per user, their clicks / impressions or whether they
/// clicked): look after every observation, stop whenever, and the interval covers the true
/// difference at every time at once with probability ≥ 1 − α. Streaming in O(1) memory, mergeable;
/// the arms may have any (even unequal or drifting) allocation, as long as which arm a unit gets
/// does not depend on its outcome.
///
/// Each arm j has its sum S_j = Σ (x − μ_j) with variance process V_j (from `variance`; observations
/// clipped into `range`). The two arms' mixture supermartingales multiply
/// (`NormalMixtureBoundary.threshold(_:_:)`, Howard et al. 2021), so with probability ≥ 1 − α, at
/// every time, Σ_j S_j² / (V_j + ρ) < T; the largest difference this allows is
///
///     (x̄_t − x̄_c) ± √(T · ((V_t + ρ)/n_t² + (V_c + ρ)/n_c²)),   T = 2 log(1/α) + Σ_j log(1 + V_j/ρ).
///
///     var cs = DifferenceConfidenceSequence(range: 0...1, plannedCount: 50_000, plannedVariance: 0.01)
///     cs.add(clicked ? 1 : 0, arm: .treatment)
///     if cs.isSignificant { … }   // the arms' CTRs differ, at 5%, whenever one looks
public struct DifferenceConfidenceSequence: Sendable, Equatable, Codable {
    public enum Arm: Sendable, Equatable { case treatment, control }

    public let boundary: NormalMixtureBoundary
    public let range: ClosedRange<Double>
    public let variance: ConfidenceSequenceVariance
    public private(set) var treatment = RunningMoments()
    public private(set) var control = RunningMoments()
    /// Observations that fell outside `range` and were clipped into it.
    public private(set) var clipped = 0

    public init(range: ClosedRange<Double>, variance: ConfidenceSequenceVariance = .estimated, boundary: NormalMixtureBoundary) {
        precondition(range.lowerBound < range.upperBound && range.lowerBound.isFinite && range.upperBound.isFinite, "range must be finite and non-empty")
        self.range = range
        self.variance = variance
        self.boundary = boundary
    }

    /// ρ tuned to be tightest after `plannedCount` observations per arm of variance
    /// `plannedVariance` (default: the range's worst case, (b − a)²/4).
    public init(
        range: ClosedRange<Double>, variance: ConfidenceSequenceVariance = .estimated, alpha: Double = 0.05, plannedCount: Int,
        plannedVariance: Double? = nil
    ) {
        self.init(range: range, variance: variance, boundary: NormalMixtureBoundary(
            alpha: alpha, plannedCount: plannedCount, range: range, variance: variance, plannedVariance: plannedVariance))
    }

    /// Adds one observation of `arm` (NaN is a programming error).
    public mutating func add(_ x: Double, arm: Arm) {
        precondition(!x.isNaN, "observation is NaN")
        if x < range.lowerBound || x > range.upperBound { clipped += 1 }
        let v = Swift.min(Swift.max(x, range.lowerBound), range.upperBound)
        switch arm {
        case .treatment: treatment.add(v)
        case .control: control.add(v)
        }
    }

    /// Adds every observation of `other` (the same range, variance and boundary).
    public mutating func merge(_ other: DifferenceConfidenceSequence) {
        precondition(range == other.range && variance == other.variance && boundary == other.boundary, "merging different confidence sequences")
        treatment.merge(other.treatment)
        control.merge(other.control)
        clipped += other.clipped
    }

    /// Treatment's mean − control's; nil until both arms have an observation.
    public var difference: Double? { treatment.count > 0 && control.count > 0 ? treatment.mean - control.mean : nil }

    /// The always-valid interval now; nil until both arms have an observation.
    public var interval: ClosedRange<Double>? {
        guard let d = difference else { return nil }
        let vt = variance.intrinsicTime(treatment, range: range), vc = variance.intrinsicTime(control, range: range)
        let nt = Double(treatment.count), nc = Double(control.count), rho = boundary.rho
        let half = (boundary.threshold(vt, vc) * ((vt + rho) / (nt * nt) + (vc + rho) / (nc * nc))).squareRoot()
        let width = range.upperBound - range.lowerBound
        return Swift.max(-width, d - half)...Swift.min(width, d + half)
    }

    /// Whether the interval excludes `value` (the hypothesis "difference = value" is rejected at level α).
    public func excludes(_ value: Double) -> Bool {
        guard let i = interval else { return false }
        return !i.contains(value)
    }

    /// The interval excludes 0: the arms' means differ, at level α, whenever one looks.
    public var isSignificant: Bool { excludes(0) }
}
