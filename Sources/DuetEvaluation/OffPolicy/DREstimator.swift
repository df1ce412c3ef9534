import Foundation

/// Doubly robust: inverse propensity scoring of the residuals of a reward model, plus the model's
/// value of the target policy,
///
///     V̂_DR = (1/n) Σ_i [ q̂(x_i, π_e) + w_i (r_i − q̂(x_i, a_i)) ],
///
/// Open Bandit Pipeline's `DoublyRobust` (`obp/ope/estimators.py`, `_estimate_round_rewards`:
/// `np.average(q_hat_at_position, weights=pi_e_at_position) + iw * (reward - q_hat_factual)`;
/// Dudík, Erhan, Langford & Li 2014). Streaming in O(1) memory and mergeable.
///
/// Assumes what `IPSEstimator` assumes (known propensities, common support, independent events);
/// unbiased when the propensities are right whatever the reward model, and its variance is lower
/// than IPS's when q̂ is close to the expected reward. The reward model must not have learned from
/// the event it predicts (in `duet replay` it scores each event before learning it). With q̂ ≡ 0
/// it is IPS. The interval is the normal approximation on the per-event terms.
public struct DREstimator: Sendable, Equatable, Codable {
    /// The per-event terms q̂(x, π_e) + w·(r − q̂(x, a)).
    public private(set) var terms = RunningMoments()

    public init() {}

    public var count: Int { terms.count }

    public mutating func add(_ event: LoggedEvent) {
        terms.add(event.expectedPredictedReward + event.weight * (event.reward - event.predictedReward))
    }

    public mutating func merge(_ other: DREstimator) { terms.merge(other.terms) }

    /// V̂_DR with its interval; nil before the first event.
    public func estimate(level: Double = 0.95) -> Estimate? { terms.estimate(level: level) }
}
