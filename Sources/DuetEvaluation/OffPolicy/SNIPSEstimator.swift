import Foundation

/// Self-normalized inverse propensity scoring: IPS divided by the mean importance weight,
///
///     V̂_SNIPS = Σ_i w_i r_i / Σ_i w_i,
///
/// Open Bandit Pipeline's `SelfNormalizedInverseProbabilityWeighting` (`obp/ope/estimators.py`,
/// `_estimate_round_rewards`: `reward * iw / iw.mean()`; Swaminathan & Joachims 2015). Streaming in
/// O(1) memory (running means and co-moments of w·r and w) and mergeable.
///
/// Assumes what `IPSEstimator` assumes (known propensities, common support, independent events). It
/// is biased (a ratio) but consistent, always within the range of the rewards, and usually far less
/// variable than IPS when weights are large; it does not need the propensities' scale to be right,
/// only their ratios.
///
/// The interval is the delta method on the ratio of means: with R = V̂_SNIPS and w̄ the mean
/// weight, SE² = Σ_i (w_i r_i − R w_i)² / ((n − 1) · n · w̄²).
public struct SNIPSEstimator: Sendable, Equatable, Codable {
    public private(set) var count = 0
    /// Means of w·r and of w.
    public private(set) var meanWeightedReward = 0.0, meanWeight = 0.0
    /// Co-moments Σ(x − x̄)², Σ(y − ȳ)², Σ(x − x̄)(y − ȳ) of x = w·r and y = w.
    var cxx = 0.0, cyy = 0.0, cxy = 0.0

    public init() {}

    public mutating func add(_ event: LoggedEvent) {
        let y = event.weight, x = y * event.reward
        count += 1
        let n = Double(count)
        let dx = x - meanWeightedReward, dy = y - meanWeight
        meanWeightedReward += dx / n
        meanWeight += dy / n
        cxx += dx * (x - meanWeightedReward)
        cyy += dy * (y - meanWeight)
        cxy += dx * (y - meanWeight)
    }

    /// Adds every event of `other`, as if they had been added here.
    public mutating func merge(_ other: SNIPSEstimator) {
        guard other.count > 0 else { return }
        guard count > 0 else { self = other; return }
        let na = Double(count), nb = Double(other.count), n = na + nb
        let dx = other.meanWeightedReward - meanWeightedReward, dy = other.meanWeight - meanWeight
        meanWeightedReward += dx * nb / n
        meanWeight += dy * nb / n
        cxx += other.cxx + dx * dx * na * nb / n
        cyy += other.cyy + dy * dy * na * nb / n
        cxy += other.cxy + dx * dy * na * nb / n
        count += other.count
    }

    /// V̂_SNIPS with its interval; nil before the first event or while every weight is 0 (the
    /// target policy never took a logged action).
    public func estimate(level: Double = 0.95) -> Estimate? {
        guard count > 0, meanWeight > 0 else { return nil }
        let r = meanWeightedReward / meanWeight
        var se: Double?
        if count > 1 {
            // Σ (x − R y)² = Cxx − 2R Cxy + R² Cyy, since x̄ − R ȳ = 0.
            let residual = max(0, cxx - 2 * r * cxy + r * r * cyy) / Double(count - 1)
            se = (residual / Double(count)).squareRoot() / meanWeight
        }
        // A zero standard error (every weighted reward in proportion, e.g. no click at all) would
        // claim certainty: no interval then, as for `RunningMoments.estimate`.
        guard let se, se > 0 else { return Estimate(value: r, interval: nil, count: count, level: level) }
        return Estimate(value: r, standardError: se, count: count, level: level)
    }
}
