import CBLAS
import Foundation
import Synchronization

/// The next `ModelVersion.serial`.
private let nextSerial = Atomic<UInt64>(1)

/// One immutable model version: weights, configuration and where it came from. Safe to score from
/// any number of tasks at once; a slot swaps whole versions.
///
/// `ŷ = σ(b + s·(Σ wᵢxᵢ + ½ Σ_f [(Σᵢ v_if xᵢ)² − Σᵢ v_if² xᵢ²]))`, where s is `featureScale` and b the bias (the log-odds of
/// the observed positive rate) and k = 0 is logistic regression.
public final class ModelVersion: Sendable {
    public enum Kind: String, Sendable, Codable { case `static`, online }

    public struct Metrics: Sendable, Codable, Equatable {
        public var logloss: Double?
        public var auc: Double?
        public var clicks: Double
        public var examples: Int
        public init(logloss: Double? = nil, auc: Double? = nil, clicks: Double = 0, examples: Int = 0) {
            self.logloss = logloss
            self.auc = auc
            self.clicks = clicks
            self.examples = examples
        }
    }

    public let id: String
    /// Unique to this instance within the process (ids can repeat: a renamed copy, a reloaded file), so
    /// what was computed with one version (`itemParts`) is never used with another.
    public let serial: UInt64
    public let parentID: String?
    public let kind: Kind
    public let createdAt: Date
    /// Examples this version's weights have learned from (all its ancestors included).
    public let examples: Int
    public let metrics: Metrics
    public let config: ModelConfig
    public let bias: Float
    /// Scale of the features' part (see `ModelConfig.shrinkage`).
    public let featureScale: Float
    /// Positives and total seen, which the bias is made of (an online learner resumes from them).
    public let positives: Double
    public let seen: Double
    public let weights: WeightPages
    /// Factor vectors: slot i's factor f at i·k + f.
    public let factors: WeightPages
    /// The feedback-log sequence this version has learned through (0: none; static models). A
    /// restart from this version's checkpoint replays the log after it.
    public let feedbackOffset: UInt64

    public init(
        id: String, parentID: String?, kind: Kind, createdAt: Date = Date(), examples: Int, metrics: Metrics,
        config: ModelConfig, positives: Double, seen: Double, weights: WeightPages, factors: WeightPages, feedbackOffset: UInt64 = 0
    ) {
        self.id = id
        self.serial = nextSerial.add(1, ordering: .relaxed).oldValue
        self.parentID = parentID
        self.kind = kind
        self.createdAt = createdAt
        self.examples = examples
        self.metrics = metrics
        self.config = config
        self.positives = positives
        self.seen = seen
        self.bias = Self.bias(positives: positives + config.priorPositives, seen: seen + config.priorPositives + config.priorNegatives)
        self.featureScale = config.featureScale(positives: positives, seen: seen)
        self.weights = weights
        self.factors = factors
        self.feedbackOffset = feedbackOffset
    }

    static func bias(positives: Double, seen: Double) -> Float {
        let p = min(max(positives / max(seen, 1e-9), 1e-6), 1 - 1e-6)
        return Float(log(p / (1 - p)))
    }

    /// A copy with another identity (a static model registered under its file name, say).
    public func renamed(id: String, parentID: String?, kind: Kind? = nil) -> ModelVersion {
        ModelVersion(id: id, parentID: parentID, kind: kind ?? self.kind, createdAt: createdAt, examples: examples, metrics: metrics,
                     config: config, positives: positives, seen: seen, weights: weights, factors: factors, feedbackOffset: feedbackOffset)
    }

    /// The raw score (log-odds) of one example.
    public func margin(_ features: [Feature]) -> Float {
        var sums = [Float](repeating: 0, count: config.k)
        return FactorizationMachine.margin(
            features, bias: bias, scale: featureScale, weights: weights, factors: factors, k: config.k, mask: UInt32(config.size - 1), sums: &sums)
    }

    /// Whether this model reads features hashed the way `other`'s are (the same bits and
    /// interactions), so it can score features prepared for `other`.
    public func hashesLike(_ other: ModelVersion) -> Bool {
        config.bits == other.config.bits && config.interactions == other.config.interactions
    }

    /// P(positive) for one example.
    public func predict(_ features: [Feature]) -> Double {
        Double(Self.sigmoid(margin(features)))
    }

    static func sigmoid(_ x: Float) -> Float {
        let c = min(max(x, -35), 35)
        return 1 / (1 + expf(-c))
    }

    /// Scores `candidates` for one user, computing the user's part once; the user × candidate factor
    /// interaction for all candidates is one BLAS matrix-vector product. `scratch` is reused across
    /// calls so the steady state allocates nothing per candidate.
    public func score(user: [Feature], candidates: [[Feature]], scratch: inout ScoringScratch, into scores: inout [Float]) {
        score(user: user, candidates: CandidateFeatures(candidates), scratch: &scratch, into: &scores)
    }

    /// The user's linear part and pairwise term, once per request; its factor sums in `scratch.userSum`.
    private func userParts(_ user: [Feature], scratch: inout ScoringScratch) -> (linear: Float, pairwise: Float) {
        scratch.userSum.removeAll(keepingCapacity: true)
        scratch.userSum.append(contentsOf: repeatElement(0, count: config.k))
        return FactorizationMachine.parts(
            user, weights: weights, factors: factors, k: config.k, mask: UInt32(config.size - 1), sums: &scratch.userSum)
    }

    /// Scores a flat batch of candidates (see `CandidateFeatures`), as above.
    public func score(user: [Feature], candidates: CandidateFeatures, scratch: inout ScoringScratch, into scores: inout [Float]) {
        let n = candidates.count, k = config.k, mask = UInt32(config.size - 1)
        scores.removeAll(keepingCapacity: true)
        let (userLinear, userSelf) = userParts(user, scratch: &scratch)
        // Each candidate's own linear part, self-interaction and factor sums (rows of a n×k matrix).
        scratch.itemSums.removeAll(keepingCapacity: true)
        scratch.itemSums.append(contentsOf: repeatElement(0, count: n * k))
        candidates.storage.withUnsafeBufferPointer { all in
            scratch.itemSums.withUnsafeMutableBufferPointer { sums in
                var start = 0
                for c in 0..<n {
                    let end = candidates.bounds[c]
                    let (linear, itemSelf) = FactorizationMachine.parts(
                        UnsafeBufferPointer(rebasing: all[start..<end]), weights: weights, factors: factors, k: k, mask: mask,
                        sums: &sums, offset: c * k)
                    scores.append(userLinear + linear + 0.5 * (userSelf + itemSelf))
                    start = end
                }
            }
        }
        // Cross term: (Σ_f sU_f sI_f) for every candidate = itemSums (n×k) · userSum (k), added twice × ½.
        if k > 0 && n > 0 {
            scratch.cross.removeAll(keepingCapacity: true)
            scratch.cross.append(contentsOf: repeatElement(0, count: n))
            scratch.itemSums.withUnsafeBufferPointer { a in
                scratch.userSum.withUnsafeBufferPointer { x in
                    scratch.cross.withUnsafeMutableBufferPointer { y in
                        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), 1, a.baseAddress, Int32(k), x.baseAddress, 1, 0, y.baseAddress, 1)
                    }
                }
            }
            for c in 0..<n { scores[c] += scratch.cross[c] }
        }
        for c in 0..<n { scores[c] = Self.sigmoid(bias + featureScale * scores[c]) }
    }
}

extension ModelVersion {
    /// Values per candidate in `itemParts`: its linear part, its pairwise term, its k factor sums.
    public var itemPartsWidth: Int { 2 + config.k }

    /// A candidate's own share of its score under this version, from its user-independent features:
    /// the linear part, the pairwise term among them and their factor sums (`itemPartsWidth` values,
    /// written at `row[offset...]`). A version scores every user against the same items, so a server
    /// keeps these per item and version (see `score(user:parts:extras:scratch:into:)`).
    public func itemParts<Row: MutableCollection<Float>>(
        _ features: some Collection<Feature>, into row: inout Row, at offset: Int
    ) where Row.Index == Int {
        let (linear, pairwise) = FactorizationMachine.parts(
            features, weights: weights, factors: factors, k: config.k, mask: UInt32(config.size - 1), sums: &row, offset: offset + 2)
        row[offset] = linear
        row[offset + 1] = pairwise
    }

    /// One candidate's parts, as above.
    public func itemParts(_ features: some Collection<Feature>) -> [Float] {
        var row = [Float](repeating: 0, count: itemPartsWidth)
        itemParts(features, into: &row, at: 0)
        return row
    }

    /// Scores candidates from their parts under this version (`itemParts`, back to back: candidate
    /// c's at `parts[c·w ..< (c+1)·w]`, w = `itemPartsWidth`) plus, per candidate, the features that
    /// depend on the pair (`extras[c]`, often one affinity or none): the same scores as
    /// `score(user:candidates:…)` on each candidate's own features followed by its extras, up to float
    /// rounding. The cost per candidate is one k-length dot product and its extras.
    public func score(
        user: [Feature], parts: [Float], extras: CandidateFeatures, scratch: inout ScoringScratch, into scores: inout [Float]
    ) {
        let k = config.k, width = itemPartsWidth, mask = UInt32(config.size - 1), n = extras.count
        precondition(parts.count == n * width, "one parts row and one extras group per candidate")
        scores.removeAll(keepingCapacity: true)
        let (userLinear, userSelf) = userParts(user, scratch: &scratch)
        scratch.cross.removeAll(keepingCapacity: true)
        scratch.cross.append(contentsOf: repeatElement(0, count: k))
        extras.storage.withUnsafeBufferPointer { all in
            parts.withUnsafeBufferPointer { rows in
                scratch.userSum.withUnsafeBufferPointer { su in
                    scratch.cross.withUnsafeMutableBufferPointer { extraSums in
                        var se = extraSums, start = 0
                        for c in 0..<n {
                            let end = extras.bounds[c], p = rows.baseAddress! + c * width
                            var linear = p[0], pairwise = p[1], cross: Float = 0
                            for f in 0..<k { cross += su[f] * p[2 + f] }
                            if end > start {
                                // ½·pairwise of (item ∪ extras) = ½(item's + extras' own) + ⟨item sums, extras sums⟩.
                                let (l, q) = FactorizationMachine.parts(
                                    UnsafeBufferPointer(rebasing: all[start..<end]), weights: weights, factors: factors, k: k,
                                    mask: mask, sums: &se)
                                var both: Float = 0, withUser: Float = 0
                                for f in 0..<k {
                                    both += p[2 + f] * se[f]
                                    withUser += su[f] * se[f]
                                }
                                linear += l
                                pairwise += q + 2 * both
                                cross += withUser
                            }
                            scores.append(Self.sigmoid(bias + featureScale * (userLinear + linear + 0.5 * (userSelf + pairwise) + cross)))
                            start = end
                        }
                    }
                }
            }
        }
    }
}

/// Reusable buffers for `ModelVersion.score` (one per task or request).
public struct ScoringScratch: Sendable {
    var userSum: [Float] = []
    var itemSums: [Float] = []
    var cross: [Float] = []
    public init() {}
}
