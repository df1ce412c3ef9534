/// What the optimizer remembers besides the weights: AdaGrad's sums of squared gradients, or FTRL's
/// n and z. A learner that continues from a model without them takes the steps of a new model (the
/// sums start at 1, so the first updates move each weight by up to the whole learning rate) and
/// starts worse than the model it copied; with them it takes the small steps the model had reached.
///
/// Published versions do not carry it (they are kept in memory by the dozen; the state is as large
/// as the weights): the learner holds it, and model files written by `duet train` and by checkpoints
/// store it (`ModelFile`).
public struct OptimizerState: Sendable, Equatable {
    public let optimizer: ModelConfig.Optimizer
    /// Per linear weight: AdaGrad's Σg² (starting at 1), FTRL's n (Σg², starting at 0).
    public var linear: [Float]
    /// Per factor value: AdaGrad's Σg² (starting at 1; factors use AdaGrad under either optimizer).
    public var factors: [Float]
    /// Per linear weight, FTRL only (empty under AdaGrad): z, from which FTRL computes the weight.
    public var z: [Float]

    /// No accumulator is larger: adding one more clipped squared gradient stays finite, and so does
    /// every step computed from it.
    public static let maxAccumulator: Float = 1e30

    public init(optimizer: ModelConfig.Optimizer, linear: [Float], factors: [Float], z: [Float]) {
        self.optimizer = optimizer
        self.linear = linear
        self.factors = factors
        self.z = z
    }

    /// The state of a model that has learned nothing yet.
    public init(fresh config: ModelConfig) {
        optimizer = config.optimizer
        linear = Array(repeating: config.optimizer == .adagrad ? 1 : 0, count: config.size)
        factors = Array(repeating: 1, count: config.size * config.k)
        z = config.optimizer == .ftrl ? Array(repeating: 0, count: config.size) : []
    }

    /// Values this state holds for `config`: the counts its arrays must have.
    public static func counts(for config: ModelConfig) -> (linear: Int, factors: Int, z: Int) {
        (config.size, config.size * config.k, config.optimizer == .ftrl ? config.size : 0)
    }

    /// True when this state belongs to a model shaped like `config` (same optimizer, bits and k).
    public func fits(_ config: ModelConfig) -> Bool {
        let c = Self.counts(for: config)
        return optimizer == config.optimizer && linear.count == c.linear && factors.count == c.factors && z.count == c.z
    }

    /// The smallest value a linear accumulator may have: AdaGrad's start (1; a smaller one would
    /// divide a step by less than its first gradient, 0 by nothing), FTRL's n (0).
    static func minLinear(_ optimizer: ModelConfig.Optimizer) -> Float { optimizer == .adagrad ? 1 : 0 }

    /// The weight FTRL-Proximal computes from z and n: the learner's update and the file reader's
    /// range check use this one definition.
    @inline(__always)
    static func ftrlWeight(z: Float, n: Float, alpha: Float, beta: Float, l1: Float, l2: Float) -> Float {
        abs(z) <= l1 ? 0 : -(z - (z > 0 ? l1 : -l1)) / ((beta + n.squareRoot()) / alpha + l2)
    }
}
