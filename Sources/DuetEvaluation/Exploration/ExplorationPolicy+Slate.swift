import Foundation

/// Slates of k > 1 items.
///
/// The rule: sequential sampling without replacement. Position 0 is drawn by the policy over all n
/// candidates; position j by the same policy over the candidates not already shown (greedy takes the
/// best remaining, ε spreads over the remaining ones, softmax renormalises over them: for softmax
/// this is the Plackett–Luce model). Greedy's slate is the top k.
///
/// Propensity for k > 1 means the marginal probability that the item is shown *at that position*,
/// P(slate[j] = i), summed over every way the positions above it can be filled. This is what the
/// Open Bandit Dataset logs as `propensity_score` and what position-wise IPS (OBP's "independent"
/// estimator: the click at a position depends only on the item there) divides by; for k = 1 it is
/// the choice probability. It is not the probability of the whole slate, nor of the prefix up to j
/// (the cascade propensity), which other estimators need.
extension ExplorationPolicy {
    /// Draws a slate of `k` distinct candidates (k ≤ n), by the rule above.
    public func chooseSlate<G: RandomNumberGenerator>(_ scores: [Double], k: Int, using generator: inout G) -> [Int] {
        drawSlate(scores, k: k, using: &generator).map(\.index)
    }

    /// Draws a slate of `k` distinct candidates (k ≤ n), by the rule above, with each position's
    /// conditional probability: P(slate[j] = i | the items above j), the probability the draw at
    /// that step had. At position 0 it is the marginal propensity; below, the marginal needs
    /// `marginalProbabilities` (costly), which is why Duet's live estimates use position 0 only.
    public func drawSlate<G: RandomNumberGenerator>(
        _ scores: [Double], k: Int, using generator: inout G
    ) -> [(index: Int, conditionalProbability: Double)] {
        precondition(k >= 1 && k <= scores.count, "k must be within 1…\(scores.count)")
        var available = [Bool](repeating: true, count: scores.count)
        var slate: [(index: Int, conditionalProbability: Double)] = []
        slate.reserveCapacity(k)
        for _ in 0..<k {
            let p = probabilities(scores, available: available)
            let i = Self.draw(p, using: &generator)
            slate.append((i, p[i]))
            available[i] = false
        }
        return slate
    }

    /// P(slate[position] = i) for every candidate i: exact, by summing over every ordered choice of
    /// the `position` items above it. Costs about n^(position + 1) steps: meant for the few top
    /// positions (n = 34, position 2: ~40,000).
    public func marginalProbabilities(_ scores: [Double], position: Int) -> [Double] {
        precondition(position >= 0 && position < scores.count, "position must be within 0..<\(scores.count)")
        var marginal = [Double](repeating: 0, count: scores.count)
        var available = [Bool](repeating: true, count: scores.count)
        func visit(depth: Int, probability: Double) {
            let p = probabilities(scores, available: available)
            if depth == position {
                for i in p.indices { marginal[i] += probability * p[i] }
                return
            }
            for i in p.indices where p[i] > 0 {
                available[i] = false
                visit(depth: depth + 1, probability: probability * p[i])
                available[i] = true
            }
        }
        visit(depth: 0, probability: 1)
        return marginal
    }

    /// The propensity of `item` shown at `position` of a slate: P(slate[position] = item).
    public func probability(of item: Int, atPosition position: Int, scores: [Double]) -> Double {
        marginalProbabilities(scores, position: position)[item]
    }
}
