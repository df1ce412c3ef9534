import Foundation

/// What a confidence sequence takes as its variance process V_t: the worst case the range allows
/// (a guarantee at every sample size) or the running variance (a CLT, far narrower for rare events).
public enum ConfidenceSequenceVariance: Sendable, Equatable, Codable {
    /// Nonasymptotic. V_t = n · (b − a)²/4: by Hoeffding's lemma an observation in [a, b] is
    /// (b − a)/2-sub-Gaussian, so the normal mixture's guarantee holds exactly, at every n. Wide
    /// when observations vary far less than their range allows: for a 1% click rate in [0, 1] the
    /// worst case 0.25 is 25× the real variance 0.0099, so about 5× wider than `.estimated`.
    case bounded
    /// Asymptotic. V_t = n · σ̃², σ̃² = (Σ(x − x̄)² + 2 · (b − a)²/4) / (n + 2): the running variance
    /// with two pseudo-observations of the worst case, so that an arm whose first observations are
    /// all equal (no click yet) does not get a zero-width interval. The coverage is then that of the
    /// time-uniform central limit theorem (Waudby-Smith, Arbour, Sinha, Kennedy & Ramdas,
    /// "Time-uniform central limit theory and asymptotic confidence sequences", Annals of Statistics
    /// 2024): exact in the limit, checked by simulation in the tests for Bernoulli arms at 0.5%, 5%
    /// and 8% (equal and unequal allocation) and for a skewed paired difference; it can fall short
    /// of 1 − α on the first few dozen observations of very skewed data, where `.bounded` cannot.
    case estimated

    /// V_t for the observations summarised by `moments`, all within `range`.
    @inlinable
    public func intrinsicTime(_ moments: RunningMoments, range: ClosedRange<Double>) -> Double {
        let worst = (range.upperBound - range.lowerBound) * (range.upperBound - range.lowerBound) / 4
        let n = Double(moments.count)
        switch self {
        case .bounded: return n * worst
        case .estimated: return n * (max(0, moments.sumOfSquaredDeviations) + 2 * worst) / (n + 2)
        }
    }
}
