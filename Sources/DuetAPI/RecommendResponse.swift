import DuetJSON

public struct ScoredItem: Codable, Sendable {
    public var id: String
    public var score: Double
    /// The probability the arm's policy had of showing this item here, given the items above it
    /// (1 for a greedy arm; for the first item, its marginal probability).
    public var propensity: Double

    public init(id: String, score: Double, propensity: Double = 1) {
        self.id = id
        self.score = score
        self.propensity = propensity
    }
}

public struct ModelRef: Codable, Sendable {
    public var slot: String
    public var version: String

    public init(slot: String, version: String) {
        self.slot = slot
        self.version = version
    }
}

public struct RecommendResponse: Codable, Sendable {
    public var requestID: String
    public var experiment: String
    public var arm: String
    public var inExperiment: Bool
    public var model: ModelRef
    public var featureVersion: String
    public var featuresDegraded: Bool
    public var items: [ScoredItem]

    enum CodingKeys: String, CodingKey {
        case requestID = "request_id", experiment, arm, inExperiment = "in_experiment", model
        case featureVersion = "feature_version", featuresDegraded = "features_degraded", items
    }

    public init(
        requestID: String, experiment: String, arm: String, inExperiment: Bool, model: ModelRef,
        featureVersion: String, featuresDegraded: Bool, items: [ScoredItem]
    ) {
        self.requestID = requestID
        self.experiment = experiment
        self.arm = arm
        self.inExperiment = inExperiment
        self.model = model
        self.featureVersion = featureVersion
        self.featuresDegraded = featuresDegraded
        self.items = items
    }
}

extension RecommendResponse {
    /// The body, written with `JSONWriter` (keys in sorted order, as the other routes' JSONEncoder writes them).
    public var json: [UInt8] {
        var w = JSONWriter(capacity: 256 + 48 * items.count)
        w.raw("{"); w.key("arm"); w.string(arm)
        w.comma(); w.key("experiment"); w.string(experiment)
        w.comma(); w.key("feature_version"); w.string(featureVersion)
        w.comma(); w.key("features_degraded"); w.bool(featuresDegraded)
        w.comma(); w.key("in_experiment"); w.bool(inExperiment)
        w.comma(); w.key("items"); w.raw("[")
        for (i, item) in items.enumerated() {
            if i > 0 { w.comma() }
            w.raw("{"); w.key("id"); w.string(item.id)
            w.comma(); w.key("propensity"); w.number(item.propensity)
            w.comma(); w.key("score"); w.number(Float(item.score)); w.raw("}")
        }
        w.raw("]")
        w.comma(); w.key("model"); w.raw("{"); w.key("slot"); w.string(model.slot); w.comma(); w.key("version"); w.string(model.version); w.raw("}")
        w.comma(); w.key("request_id"); w.string(requestID)
        w.raw("}")
        return w.bytes
    }
}
