import Foundation

/// Why an example was refused before it touched a weight.
public enum RejectionReason: String, Error, Sendable, CaseIterable, Codable {
    case nonFiniteFeature = "non_finite_feature"
    case absurdFeature = "absurd_feature"
    case badLabel = "bad_label"
    case badWeight = "bad_weight"
    case nonFiniteGradient = "non_finite_gradient"
}

/// The mutable model the single writer trains: flat weight arrays, optimizer state, progressive
/// metrics. `publish` turns the current weights into an immutable `ModelVersion`, copying only the
/// pages changed since the previous one.
public struct Learner: Sendable {
    public let config: ModelConfig
    var w: [Float]
    var v: [Float]
    var gw: [Float]      // AdaGrad accumulators (FTRL: n)
    var gv: [Float]
    var z: [Float]       // FTRL only
    var dirtyW: [Bool]
    var dirtyV: [Bool]
    var publishedW: WeightPages
    var publishedV: WeightPages
    public private(set) var positives: Double
    public private(set) var seen: Double
    public private(set) var updates = 0
    public private(set) var metrics: ProgressiveMetrics
    public private(set) var rejections: [RejectionReason: Int] = [:]
    var sums: [Float] = []
    public static let maxAbsValue: Float = 1e6

    /// A new model, or one that continues from `start` (its weights, bias counts and config) and,
    /// when given, the optimizer state it was saved with (see `OptimizerState`). A state that does not
    /// fit `start`'s config is not used (the caller checks `fits` first); without one the optimizer
    /// starts fresh, as a new model's would.
    public init(config: ModelConfig = ModelConfig(), start: ModelVersion? = nil, optimizerState: OptimizerState? = nil, metricsWindow: Int = 10_000) {
        let config = start?.config ?? config
        self.config = config
        let n = config.size, k = config.k
        if let start {
            w = start.weights.flattened()
            v = start.factors.flattened()
            publishedW = start.weights
            publishedV = start.factors
            positives = start.positives
            seen = start.seen
        } else {
            w = Array(repeating: 0, count: n)
            var rng = SplitMix64(seed: 0x5EED)
            v = (0..<(n * k)).map { _ in Float(rng.nextGaussian()) * config.factorInit }
            publishedW = WeightPages(w)
            publishedV = WeightPages(v)
            positives = 0
            seen = 0
        }
        let state = optimizerState.flatMap { $0.fits(config) ? $0 : nil } ?? OptimizerState(fresh: config)
        gw = state.linear
        gv = state.factors
        z = state.z
        hasSavedOptimizerState = optimizerState?.fits(config) == true
        dirtyW = Array(repeating: false, count: (n + WeightPages.pageSize - 1) >> WeightPages.pageShift)
        dirtyV = Array(repeating: false, count: (n * k + WeightPages.pageSize - 1) >> WeightPages.pageShift)
        metrics = ProgressiveMetrics(window: metricsWindow)
        sums = Array(repeating: 0, count: k)
        if start != nil && !hasSavedOptimizerState { alignFTRL() }
    }

    /// The optimizer's accumulators now (for a checkpoint or a static model file). The arrays are
    /// shared with the learner until its next update, which then copies them once: taking the state
    /// costs no copy here, and one copy of the accumulators later.
    public var optimizerState: OptimizerState {
        OptimizerState(optimizer: config.optimizer, linear: gw, factors: gv, z: z)
    }

    /// True when the accumulators came from a saved state (at the start or the last reset), false
    /// when they started fresh.
    public private(set) var hasSavedOptimizerState = false

    var bias: Float {
        ModelVersion.bias(positives: positives + config.priorPositives, seen: seen + config.priorPositives + config.priorNegatives)
    }

    /// P(positive) under the current (unpublished) weights.
    public func predict(_ features: [Feature]) -> Double {
        Double(ModelVersion.sigmoid(margin(features)))
    }

    func margin(_ features: [Feature]) -> Float {
        var sums = [Float](repeating: 0, count: config.k)
        return FactorizationMachine.margin(features, bias: bias, scale: config.featureScale(positives: positives, seen: seen), weights: w, factors: v, k: config.k, mask: UInt32(config.size - 1), sums: &sums)
    }

    /// Checks an example without learning from it; nil when it may be learned from.
    public static func check(_ features: [Feature], label: Double, weight: Double) -> RejectionReason? {
        guard label.isFinite, label >= 0, label <= 1 else { return .badLabel }
        guard weight.isFinite, weight > 0, weight <= 1e6 else { return .badWeight }
        for f in features {
            guard f.value.isFinite else { return .nonFiniteFeature }
            guard abs(f.value) <= maxAbsValue else { return .absurdFeature }
        }
        return nil
    }

    /// Scores the example (progressive validation), then learns from it. Returns the prediction made
    /// before learning, or the reason the example was refused (nothing changed then).
    @discardableResult
    public mutating func learn(_ features: [Feature], label: Double, weight: Double = 1) -> Result<Double, RejectionReason> {
        if let reason = Self.check(features, label: label, weight: weight) {
            rejections[reason, default: 0] += 1
            return .failure(reason)
        }
        let k = config.k, mask = UInt32(config.size - 1)
        let clip = config.clip, l2 = config.l2
        let scale = config.featureScale(positives: positives, seen: seen)
        let bias = self.bias
        // The margin is FactorizationMachine's arithmetic, and the step the optimizers', over raw
        // buffers: no bounds or uniqueness checks per weight. Indices are masked to this model's size: features hashed for a model
        // with more bits stay in range.
        return features.withUnsafeBufferPointer { fs in
            w.withUnsafeMutableBufferPointer { w in
                gw.withUnsafeMutableBufferPointer { gw in
                    v.withUnsafeMutableBufferPointer { v in
                        gv.withUnsafeMutableBufferPointer { gv in
                            sums.withUnsafeMutableBufferPointer { sums in
                                // The margin and, in `sums`, the factor sums the FM gradient needs (before any change).
                                var sums = sums
                                let (linear, pairwise) = FactorizationMachine.parts(fs, weights: w, factors: v, k: k, mask: mask, sums: &sums)
                                let m = bias + scale * (linear + 0.5 * pairwise)
                                let p = ModelVersion.sigmoid(m)
                                let g = (p - Float(label)) * Float(weight)
                                guard m.isFinite, g.isFinite else {
                                    rejections[.nonFiniteGradient, default: 0] += 1
                                    return .failure(.nonFiniteGradient)
                                }
                                metrics.add(p: Double(p), label: label, weight: weight)
                                switch config.optimizer {
                                case .adagrad:
                                    let lr = config.learningRate
                                    for f in fs {
                                        let i = Int(f.index & mask)
                                        var gi = g * f.value + l2 * w[i]
                                        gi = min(max(gi, -clip), clip)
                                        gw[i] += gi * gi
                                        w[i] -= lr * gi / gw[i].squareRoot()
                                        dirtyW[i >> WeightPages.pageShift] = true
                                    }
                                case .ftrl:
                                    let alpha = config.learningRate, beta = config.ftrlBeta, l1 = config.l1
                                    for f in fs {
                                        let i = Int(f.index & mask)
                                        var gi = g * f.value
                                        gi = min(max(gi, -clip), clip)
                                        let sigma = ((gw[i] + gi * gi).squareRoot() - gw[i].squareRoot()) / alpha
                                        z[i] += gi - sigma * w[i]
                                        gw[i] += gi * gi
                                        w[i] = OptimizerState.ftrlWeight(z: z[i], n: gw[i], alpha: alpha, beta: beta, l1: l1, l2: l2)
                                        dirtyW[i >> WeightPages.pageShift] = true
                                    }
                                }
                                if k > 0 {
                                    let lr = config.factorLearningRate
                                    for f in fs {
                                        let base = Int(f.index & mask) * k
                                        for j in 0..<k {
                                            let vi = v[base + j]
                                            var gi = g * f.value * (sums[j] - vi * f.value) + l2 * vi
                                            gi = min(max(gi, -clip), clip)
                                            gv[base + j] += gi * gi
                                            v[base + j] = vi - lr * gi / gv[base + j].squareRoot()
                                        }
                                        dirtyV[base >> WeightPages.pageShift] = true
                                        dirtyV[(base + k - 1) >> WeightPages.pageShift] = true
                                    }
                                }
                                positives += label * weight
                                seen += weight
                                updates += 1
                                return .success(Double(p))
                            }
                        }
                    }
                }
            }
        }
    }

    /// An immutable copy of the current weights as a new version. Only pages changed since the last
    /// publish are copied; the rest are shared with the previous version.
    public mutating func publish(id: String, parentID: String?, kind: ModelVersion.Kind, examples: Int? = nil, feedbackOffset: UInt64 = 0) -> ModelVersion {
        publishedW = publishedW.updating(from: w, dirty: &dirtyW)
        publishedV = publishedV.updating(from: v, dirty: &dirtyV)
        return ModelVersion(
            id: id, parentID: parentID, kind: kind, examples: examples ?? Int(seen),
            metrics: .init(logloss: metrics.logloss, auc: metrics.auc, clicks: metrics.positives, examples: metrics.examples),
            config: config, positives: positives, seen: seen, weights: publishedW, factors: publishedV, feedbackOffset: feedbackOffset)
    }

    /// Continues from `version` (after a rollback): its weights and bias counts, and `optimizerState`
    /// when it is given and fits (the state saved with `version`'s checkpoint). Without one the
    /// learner keeps its own accumulators (FTRL's z realigned to the new weights): they only grow, so
    /// they are at least those `version` had, and its steps are no larger than `version`'s own would be.
    public mutating func reset(to version: ModelVersion, optimizerState: OptimizerState? = nil) {
        guard version.config.size == config.size, version.config.k == config.k else { return }
        w = version.weights.flattened()
        v = version.factors.flattened()
        publishedW = version.weights
        publishedV = version.factors
        for i in dirtyW.indices { dirtyW[i] = false }
        for i in dirtyV.indices { dirtyV[i] = false }
        positives = version.positives
        seen = version.seen
        if let optimizerState, optimizerState.fits(config) {
            gw = optimizerState.linear
            gv = optimizerState.factors
            z = optimizerState.z
            hasSavedOptimizerState = true
        } else {
            alignFTRL()
        }
    }

    /// FTRL keeps its weights as a function of z and n: after weights come from elsewhere (a warm
    /// start, a resumed checkpoint, a rollback) z is chosen so that w(z, n) = w, so the next update
    /// moves a weight by one step instead of recomputing it from an empty z.
    mutating func alignFTRL() {
        guard config.optimizer == .ftrl else { return }
        for i in w.indices where w[i] != 0 {
            let denom = (config.ftrlBeta + gw[i].squareRoot()) / config.learningRate + config.l2
            z[i] = -w[i] * denom + (w[i] < 0 ? config.l1 : -config.l1)
        }
    }

    /// True when every weight is finite (the guardrail checks this).
    public var allFinite: Bool { w.allSatisfy(\.isFinite) && v.allSatisfy(\.isFinite) }
}

