import Foundation

/// Inverse propensity scoring: the value of a target policy π_e estimated from events logged by
/// another policy π_b,
///
///     V̂_IPS = (1/n) Σ_i w_i r_i,   w_i = π_e(a_i|x_i) / π_b(a_i|x_i),
///
/// Open Bandit Pipeline's `InverseProbabilityWeighting` (`obp/ope/estimators.py`,
/// `_estimate_round_rewards`: `reward * iw`; Strehl et al. 2010). Streaming in O(1) memory (the
/// running moments of the per-event terms w·r) and mergeable.
///
/// Unbiased when
/// - the propensities are the logging policy's true, known probabilities (not estimated);
/// - common support: every action the target policy may take had a positive logging probability
///   (π_e(a|x) > 0 ⇒ π_b(a|x) > 0); actions outside the log's support are silently valued at 0;
/// - events are independent draws (i.i.d. contexts; a reward depends on its own action only — for
///   slates, on the item at its own position, OBP's "independent" position-wise assumption).
///
/// The interval is the normal approximation on the per-event terms, mean ± z·s/√n (OBP bootstraps
/// instead); it is honest only when no few events carry most of the weight: with large weights
/// (a target policy far from the logging one) the variance is large and the approximation poor.
public struct IPSEstimator: Sendable, Equatable, Codable {
    /// The per-event terms w·r.
    public private(set) var terms = RunningMoments()

    public init() {}

    public var count: Int { terms.count }

    public mutating func add(_ event: LoggedEvent) { terms.add(event.weight * event.reward) }

    public mutating func merge(_ other: IPSEstimator) { terms.merge(other.terms) }

    /// V̂_IPS with its interval; nil before the first event.
    public func estimate(level: Double = 0.95) -> Estimate? { terms.estimate(level: level) }
}
