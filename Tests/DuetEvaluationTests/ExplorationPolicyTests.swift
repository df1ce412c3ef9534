import DuetEvaluation
import Foundation
import Testing

/// Greedy, uniform, ε-greedy and softmax: the propensities they return, and draws whose
/// frequencies match them (χ²), for one choice and for slates.
@Suite struct ExplorationPolicyTests {
    static let scores = [0.2, 0.5, 0.1, 0.5, 0.05, 0.3]
    static let policies: [ExplorationPolicy] = [.greedy, .uniform, .epsilon(0.3), .softmax(temperature: 0.1)]

    @Test func probabilitiesFollowTheDocumentedRules() {
        let s = Self.scores
        #expect(ExplorationPolicy.greedy.probabilities(s) == [0, 1, 0, 0, 0, 0])  // ties: the first
        #expect(ExplorationPolicy.uniform.probabilities(s).allSatisfy { abs($0 - 1.0 / 6) < 1e-15 })
        let e = ExplorationPolicy.epsilon(0.3).probabilities(s)
        #expect(abs(e[0] - 0.05) < 1e-15 && abs(e[1] - (0.05 + 0.7)) < 1e-15 && abs(e[3] - 0.05) < 1e-15 && abs(e.reduce(0, +) - 1) < 1e-12)
        let t = 0.1, soft = ExplorationPolicy.softmax(temperature: t).probabilities(s)
        let z = s.map { exp($0 / t) }.reduce(0, +)
        for i in s.indices { #expect(abs(soft[i] - exp(s[i] / t) / z) < 1e-12) }
        #expect(ExplorationPolicy.epsilon(0).probabilities(s) == ExplorationPolicy.greedy.probabilities(s))
        #expect(ExplorationPolicy.epsilon(1).probabilities(s).elementsEqual(ExplorationPolicy.uniform.probabilities(s)) { abs($0 - $1) < 1e-15 })
        #expect(ExplorationPolicy.softmax(temperature: 1e-9).probabilities([1, 2, 0]) == [0, 1, 0])
        #expect(ExplorationPolicy.softmax(temperature: 0.1).probability(of: 5, scores: s) == soft[5])
        #expect(!ExplorationPolicy.epsilon(1.5).isValid && !ExplorationPolicy.softmax(temperature: 0).isValid)
    }

    @Test(arguments: policies)
    func drawsMatchThePropensities(_ policy: ExplorationPolicy) {
        var rng = SeededGenerator(seed: 12)
        let p = policy.probabilities(Self.scores)
        var counts = [Int](repeating: 0, count: p.count)
        for _ in 0..<60_000 { counts[policy.choose(Self.scores, using: &rng)] += 1 }
        let (statistic, df) = chiSquared(observed: counts, probabilities: p)
        if df > 0 {
            #expect(statistic < chiSquaredQuantile(0.999, degreesOfFreedom: df), "\(policy): χ² = \(statistic), df \(df)")
        }
    }

    /// Slates of 3: the frequency of every (item, position) pair over many slates matches the
    /// marginal propensities P(slate[j] = i), position by position.
    @Test(arguments: policies)
    func slateFrequenciesMatchTheMarginalPropensities(_ policy: ExplorationPolicy) {
        var rng = SeededGenerator(seed: 13)
        let s = Self.scores, k = 3, draws = 40_000
        var counts = [[Int]](repeating: [Int](repeating: 0, count: s.count), count: k)
        for _ in 0..<draws {
            let slate = policy.chooseSlate(s, k: k, using: &rng)
            #expect(Set(slate).count == k)
            for (j, i) in slate.enumerated() { counts[j][i] += 1 }
        }
        for j in 0..<k {
            let marginal = policy.marginalProbabilities(s, position: j)
            #expect(abs(marginal.reduce(0, +) - 1) < 1e-12)
            let (statistic, df) = chiSquared(observed: counts[j], probabilities: marginal)
            if df > 0 {
                #expect(statistic < chiSquaredQuantile(0.999, degreesOfFreedom: df), "\(policy) position \(j): χ² = \(statistic), df \(df)")
            }
        }
        // Position 0 is the single choice.
        #expect(policy.marginalProbabilities(s, position: 0) == policy.probabilities(s))
    }

    @Test func greedySlatesAreTheTopK() {
        var rng = SeededGenerator(seed: 14)
        let slate = ExplorationPolicy.greedy.chooseSlate([0.1, 0.9, 0.4, 0.7], k: 3, using: &rng)
        #expect(slate == [1, 3, 2])
        #expect(ExplorationPolicy.greedy.probability(of: 2, atPosition: 2, scores: [0.1, 0.9, 0.4, 0.7]) == 1)
        // ε-greedy, 3 candidates, second position, by hand: the best is shown second only when
        // another was drawn first (prob ε·2/3), then it is chosen with 1 − ε + ε/2.
        let e = 0.3, p = ExplorationPolicy.epsilon(e).probability(of: 0, atPosition: 1, scores: [0.9, 0.5, 0.1])
        #expect(abs(p - (e * 2 / 3) * (1 - e + e / 2)) < 1e-12)
    }
}
