/// How a model is shaped and trained. Every field has a default that works on any stream without
/// tuning (see docs/models.md for how they were chosen).
public struct ModelConfig: Sendable, Equatable, Codable {
    public enum Optimizer: String, Sendable, Codable, CaseIterable {
        case adagrad, ftrl
    }

    /// Weight slots: 2^bits.
    public var bits = 20
    /// Factorization-machine rank (0 = logistic regression).
    public var k = 4
    /// Field pairs crossed explicitly (VW's `-q`), e.g. `user_feature_0` × `item_id`.
    public var interactions: [[String]] = []
    public var optimizer = Optimizer.adagrad
    /// AdaGrad step size for linear weights (FTRL: alpha).
    public var learningRate: Float = 0.3
    /// Step size for the factor vectors (AdaGrad). 0.2: on four dense synthetic streams it lowered
    /// log loss on three (up to 0.9%) and raised it by 0.05% on one, against 0.02; neutral on OBD.
    public var factorLearningRate: Float = 0.2
    public var l2: Float = 1e-4
    /// FTRL-Proximal L1 and beta.
    public var l1: Float = 0.5
    public var ftrlBeta: Float = 1
    /// Gradients are clipped to ±clip before they touch a weight.
    public var clip: Float = 10
    /// Standard deviation of the initial factor values.
    public var factorInit: Float = 0.01
    /// Prior pseudo-counts of the bias (the observed positive rate, smoothed).
    public var priorPositives: Double = 0.5
    public var priorNegatives: Double = 0.5
    /// The features' part of the score is scaled by m / (m + shrinkage), m being the smaller of the
    /// positive and negative counts seen: while one label is still rare (a new stream, a 0.5% CTR) the
    /// prediction stays near the observed rate; on a dense stream it fades out fast. 0 disables.
    public var shrinkage: Double = 100

    /// The scale of the features' part of the score after `positives` of `seen` labels.
    public func featureScale(positives: Double, seen: Double) -> Float {
        guard shrinkage > 0 else { return 1 }
        let m = max(0, min(positives, seen - positives))
        return Float(m / (m + shrinkage))
    }

    public init() {}

    public var size: Int { 1 << bits }

    public var interactionPairs: [(String, String)] { interactions.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil } }

    public var hasher: FeatureHasher { FeatureHasher(bits: bits, interactions: interactionPairs) }
}
