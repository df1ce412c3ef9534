import Foundation

/// How a serving arm turns its model's scores of n candidates into a choice, and the probability
/// (propensity) of every choice: the number off-policy estimators divide by. Pure functions of the
/// scores; sampling takes the random generator as an argument so tests can seed it.
///
/// For one choice (k = 1), π(i) is:
/// - `greedy`: 1 for the argmax, else 0 — the first of equal best scores (deterministic, as
///   `numpy.argmax` and Duet's serving ranking break ties: by candidate order);
/// - `uniform`: 1/n;
/// - `epsilon(ε)`: ε/n + (1 − ε) for the argmax, else ε/n (ε spread over all candidates, argmax included);
/// - `softmax(temperature: T)`: exp(s_i / T) / Σ_j exp(s_j / T) (T > 0; small T → greedy, large → uniform).
///
/// Scores are the model's predicted click probabilities in Duet (what `/v1/recommend` returns), so
/// a softmax temperature is on that scale: with click rates near 0.5%, T = 0.001 already separates
/// items strongly. Slates (k > 1): see `ExplorationPolicy+Slate.swift`.
///
///     let policy = ExplorationPolicy.epsilon(0.1)
///     let p = policy.probabilities([0.2, 0.5, 0.1])   // [0.0333…, 0.9333…, 0.0333…]
///     var rng = SystemRandomNumberGenerator()
///     let shown = policy.choose([0.2, 0.5, 0.1], using: &rng)
public enum ExplorationPolicy: Sendable, Equatable, Hashable {
    case greedy
    case uniform
    case epsilon(Double)
    case softmax(temperature: Double)

    /// Whether the parameters are usable: ε within [0, 1], T positive and finite.
    public var isValid: Bool {
        switch self {
        case .greedy, .uniform: return true
        case .epsilon(let e): return e.isFinite && (0...1).contains(e)
        case .softmax(let t): return t.isFinite && t > 0
        }
    }

    /// π(i) for every candidate i (k = 1). Scores must be finite and non-empty.
    public func probabilities(_ scores: [Double]) -> [Double] {
        probabilities(scores, available: nil)
    }

    /// π(choice) for k = 1.
    public func probability(of choice: Int, scores: [Double]) -> Double {
        probabilities(scores)[choice]
    }

    /// Draws one candidate's index with probability π(i).
    public func choose<G: RandomNumberGenerator>(_ scores: [Double], using generator: inout G) -> Int {
        Self.draw(probabilities(scores), using: &generator)
    }

    /// π over the candidates still `available` (nil: all), 0 for the others: the one rule both a
    /// single choice and each step of a slate use.
    func probabilities(_ scores: [Double], available: [Bool]?) -> [Double] {
        precondition(isValid, "invalid policy \(self)")
        precondition(!scores.isEmpty && scores.allSatisfy(\.isFinite), "scores must be finite and non-empty")
        let n = scores.count
        func isIn(_ i: Int) -> Bool { available?[i] ?? true }
        let candidates = (0..<n).filter(isIn)
        precondition(!candidates.isEmpty, "no candidate left")
        var p = [Double](repeating: 0, count: n)
        let uniform = 1 / Double(candidates.count)
        switch self {
        case .uniform:
            for i in candidates { p[i] = uniform }
        case .greedy, .epsilon:
            let e: Double
            if case .epsilon(let x) = self { e = x } else { e = 0 }
            var top = candidates[0]
            for i in candidates where scores[i] > scores[top] { top = i }
            for i in candidates { p[i] = e * uniform }
            p[top] += 1 - e
        case .softmax(let t):
            let best = candidates.map { scores[$0] }.max()!
            var sum = 0.0
            for i in candidates {
                p[i] = exp((scores[i] - best) / t)
                sum += p[i]
            }
            for i in candidates { p[i] /= sum }
        }
        return p
    }

    /// An index drawn from the distribution `p` (summing to 1).
    static func draw<G: RandomNumberGenerator>(_ p: [Double], using generator: inout G) -> Int {
        let u = Double.random(in: 0..<1, using: &generator)
        var cumulative = 0.0
        var last = 0
        for (i, pi) in p.enumerated() where pi > 0 {
            cumulative += pi
            last = i
            if u < cumulative { return i }
        }
        return last  // rounding: u beyond the last partial sum
    }
}
