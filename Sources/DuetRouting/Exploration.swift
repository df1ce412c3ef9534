/// How an arm chooses among its model's ranked candidates, as written on the arm:
///
/// ```yaml
/// arms:
///   - {name: static, model: static}                                        # greedy: the top k
///   - {name: online, model: online, explore: {policy: epsilon, epsilon: 0.05}}
///   - {name: soft, model: online, explore: {policy: softmax, temperature: 0.01}}
/// ```
///
/// `epsilon`: with probability ε an item is drawn uniformly from the candidates, else the best
/// one; `softmax`: drawn with probability ∝ exp(score / temperature), on the scale of the model's
/// scores (predicted click probabilities: 0.01 already prefers a 5% item strongly over a 1% one,
/// 1 is nearly uniform). Served items carry their propensity (see the serving docs).
public struct Exploration: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Policy: String, Sendable, Codable, CaseIterable {
        case greedy, epsilon, softmax
    }

    public var policy: Policy
    /// ε for `epsilon` (0 for the others).
    public var epsilon: Double
    /// T for `softmax` (0 for the others).
    public var temperature: Double

    public static let greedy = Exploration(policy: .greedy, epsilon: 0, temperature: 0)
    /// ε when `policy: epsilon` gives none.
    public static let defaultEpsilon = 0.05

    public init(policy: Policy, epsilon: Double = 0, temperature: Double = 0) {
        self.policy = policy
        self.epsilon = epsilon
        self.temperature = temperature
    }

    public var isGreedy: Bool { policy == .greedy || (policy == .epsilon && epsilon == 0) }

    public var description: String {
        switch policy {
        case .greedy: return "greedy"
        case .epsilon: return "epsilon \(epsilon)"
        case .softmax: return "softmax T=\(temperature)"
        }
    }
}
