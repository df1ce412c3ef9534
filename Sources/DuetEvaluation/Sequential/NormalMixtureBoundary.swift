import Foundation

/// Robbins' two-sided normal mixture as a uniform boundary: the radius a sub-Gaussian sum stays
/// within at every time at once, with probability at least 1 − α, however often one looks.
///
/// From Howard, Ramdas, McAuliffe & Sekhon, "Time-uniform, nonparametric, nonasymptotic confidence
/// sequences", Annals of Statistics 49(2), 2021: the two-sided normal-mixture boundary (Robbins'
/// normal mixture, Robbins 1970). Let S_t = Σ_{i≤t} (X_i − μ) be sub-Gaussian with variance process V_t, i.e.
/// exp(λ S_t − λ² V_t / 2) is bounded by a nonnegative supermartingale for every λ (i.i.d. X_i in
/// [a, b] are, with V_t = t (b − a)²/4, by Hoeffding's lemma). Mixing λ over N(0, 1/ρ) gives the
/// supermartingale
///
///     M_t = √(ρ / (V_t + ρ)) · exp(S_t² / (2 (V_t + ρ))),
///
/// and Ville's inequality, P(∃t: M_t ≥ 1/α) ≤ α, gives: with probability ≥ 1 − α, for all t,
///
///     |S_t| < √((V_t + ρ) · (2 log(1/α) + log(1 + V_t / ρ)))          (`radius`)
///
/// (the same formula as the authors' `confseq` library, `TwoSidedNormalMixture::bound`). For d
/// independent processes S_j (two arms), mixing λ over N(0, I/ρ) gives likewise
/// Σ_j S_j² / (V_j + ρ) < 2 log(1/α) + Σ_j log(1 + V_j / ρ) (`threshold`).
///
/// ρ > 0 sets where the boundary is tightest: `rho(optimalAt: v)` minimises the radius near
/// intrinsic time V_t = v (≈ n · σ² for n observations of variance σ²), where the radius is 1.55×
/// the fixed-sample 95% half-width 1.96·√v (at α = 0.05: the price of looking at every time). A ρ
/// planned for 10× too many observations makes the interval 27% wider than that there, 10× too few
/// 7% wider; validity never depends on ρ.
public struct NormalMixtureBoundary: Sendable, Equatable, Codable {
    /// The probability of ever crossing (0.05: the sequence of intervals covers the truth at
    /// every time at once with probability 95%).
    public let alpha: Double
    /// The mixture's precision ρ, in the units of V_t.
    public let rho: Double

    public init(alpha: Double = 0.05, rho: Double) {
        precondition(alpha > 0 && alpha < 1, "alpha must be within (0, 1)")
        precondition(rho > 0 && rho.isFinite, "rho must be positive")
        self.alpha = alpha
        self.rho = rho
    }

    /// The boundary tightest near V_t = `intrinsicTime`.
    public init(alpha: Double = 0.05, optimalAt intrinsicTime: Double) {
        self.init(alpha: alpha, rho: Self.rho(optimalAt: intrinsicTime, alpha: alpha))
    }

    /// ρ = v / (2 log(1/α) + log(1 + 2 log(1/α))): the two-sided radius's minimiser at V_t = v
    /// (Howard et al.'s closed-form approximation, `confseq`'s `best_rho`; the exact minimiser
    /// solves x − log(1 + x) = 2 log(1/α) for x = v/ρ, and this is one fixed-point step of it).
    /// The boundary tightest after `plannedCount` observations of values in `range` with variance
    /// `plannedVariance` (default, and always with `.bounded`: the range's worst case, (b − a)²/4).
    public init(alpha: Double = 0.05, plannedCount: Int, range: ClosedRange<Double>, variance: ConfidenceSequenceVariance, plannedVariance: Double? = nil) {
        let worst = (range.upperBound - range.lowerBound) * (range.upperBound - range.lowerBound) / 4
        let sigma2 = variance == .bounded ? worst : (plannedVariance ?? worst)
        self.init(alpha: alpha, optimalAt: Double(max(1, plannedCount)) * sigma2)
    }

    public static func rho(optimalAt v: Double, alpha: Double = 0.05) -> Double {
        precondition(v > 0 && v.isFinite, "the intrinsic time must be positive")
        let l = log(1 / alpha)
        return v / (2 * l + log(1 + 2 * l))
    }

    /// The bound on S_t² / (V_t + ρ) for one process: 2 log(1/α) + log(1 + V_t/ρ).
    @inlinable public func threshold(_ v: Double) -> Double { 2 * log(1 / alpha) + log1p(v / rho) }

    /// The bound on Σ_j S_j² / (V_j + ρ) for two independent processes.
    @inlinable public func threshold(_ v1: Double, _ v2: Double) -> Double { 2 * log(1 / alpha) + log1p(v1 / rho) + log1p(v2 / rho) }

    /// √((V_t + ρ) · threshold(V_t)): |S_t| stays below it at every t with probability ≥ 1 − α.
    @inlinable public func radius(_ v: Double) -> Double { ((v + rho) * threshold(v)).squareRoot() }
}
