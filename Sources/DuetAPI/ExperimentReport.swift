/// `GET /v1/admin/experiments/{key}/report`: per-arm counts, CTR with 95% Wilson intervals, the
/// served model's progressive log loss, and each arm's CTR difference to the first arm (95% interval).
public struct ExperimentReport: Codable, Sendable {
    public struct Arm: Codable, Sendable {
        public var arm: String
        public var model: String
        public var requests: Int
        public var feedback: Int
        public var clicks: Int
        public var ctr: Double
        public var ctrLow: Double
        public var ctrHigh: Double
        public var logloss: Double?
        /// Versions the arm's slot keeps in memory.
        public var versions: Int?

        enum CodingKeys: String, CodingKey {
            case arm, model, requests, feedback, clicks, ctr, ctrLow = "ctr_low", ctrHigh = "ctr_high", logloss, versions
        }

        public init(
            arm: String, model: String, requests: Int, feedback: Int, clicks: Int, ctr: Double, ctrLow: Double, ctrHigh: Double,
            logloss: Double?, versions: Int?
        ) {
            self.arm = arm
            self.model = model
            self.requests = requests
            self.feedback = feedback
            self.clicks = clicks
            self.ctr = ctr
            self.ctrLow = ctrLow
            self.ctrHigh = ctrHigh
            self.logloss = logloss
            self.versions = versions
        }
    }

    public struct Difference: Codable, Sendable {
        public var arm: String
        public var baseline: String
        public var difference: Double
        public var low: Double
        public var high: Double

        public init(arm: String, baseline: String, difference: Double, low: Double, high: Double) {
            self.arm = arm
            self.baseline = baseline
            self.difference = difference
            self.low = low
            self.high = high
        }
    }

    public var experiment: String
    public var revision: Int
    public var srmPValue: Double
    public var arms: [Arm]
    public var differences: [Difference]

    enum CodingKeys: String, CodingKey {
        case experiment, revision, srmPValue = "srm_p_value", arms, differences
    }

    public init(experiment: String, revision: Int, srmPValue: Double, arms: [Arm], differences: [Difference]) {
        self.experiment = experiment
        self.revision = revision
        self.srmPValue = srmPValue
        self.arms = arms
        self.differences = differences
    }
}
