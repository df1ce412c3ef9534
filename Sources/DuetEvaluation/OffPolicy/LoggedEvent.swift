import Foundation

/// One logged bandit event as the off-policy estimators read it: the reward of the action the
/// logging policy took, the probability it had of taking it, and what the target policy (the one
/// being evaluated) would have done.
///
/// Notation (Open Bandit Pipeline's, `obp/ope/estimators.py`): x the context, a the logged action,
/// r its reward, π_b(a|x) the logging propensity, π_e(a|x) the target probability,
/// w = π_e(a|x) / π_b(a|x) the importance weight, q̂(x, a) a reward model's prediction and
/// q̂(x, π_e) = Σ_a' π_e(a'|x) q̂(x, a') its expectation under the target policy.
public struct LoggedEvent: Sendable, Equatable {
    /// r, in [0, 1] (a click).
    public let reward: Double
    /// π_b(a|x) > 0: the logging policy's probability of the logged action. For a slate, the
    /// probability of the logged item at its logged position (OBD's `propensity_score`).
    public let propensity: Double
    /// π_e(a|x) ∈ [0, 1]: the target policy's probability of the logged action (at that position).
    public let targetProbability: Double
    /// q̂(x, a): the reward model's prediction for the logged action (0 without a model).
    public let predictedReward: Double
    /// q̂(x, π_e) = Σ_a' π_e(a'|x) q̂(x, a') (0 without a model).
    public let expectedPredictedReward: Double

    /// Checks every field: a reward in [0, 1], a propensity in (0, 1], a target probability in
    /// [0, 1], finite reward-model values.
    public init(
        reward: Double, propensity: Double, targetProbability: Double, predictedReward: Double = 0, expectedPredictedReward: Double = 0
    ) throws(OffPolicyError) {
        guard reward.isFinite, (0...1).contains(reward) else { throw OffPolicyError(.badReward, "reward \(reward) is not within [0, 1]") }
        guard propensity.isFinite, propensity > 0, propensity <= 1 else {
            throw OffPolicyError(.badPropensity, "propensity \(propensity) is not within (0, 1]")
        }
        guard targetProbability.isFinite, (0...1).contains(targetProbability) else {
            throw OffPolicyError(.badTargetProbability, "target probability \(targetProbability) is not within [0, 1]")
        }
        guard predictedReward.isFinite, expectedPredictedReward.isFinite else {
            throw OffPolicyError(.badPrediction, "reward-model values must be finite")
        }
        self.reward = reward
        self.propensity = propensity
        self.targetProbability = targetProbability
        self.predictedReward = predictedReward
        self.expectedPredictedReward = expectedPredictedReward
    }

    /// w = π_e(a|x) / π_b(a|x).
    public var weight: Double { targetProbability / propensity }
}
