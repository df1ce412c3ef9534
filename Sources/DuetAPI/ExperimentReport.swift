/// `GET /v1/admin/experiments/{key}/report`: per-arm counts, CTR with 95% Wilson intervals, the
/// served model's progressive log loss, and each arm's CTR difference to the first arm (95% interval).
public struct ExperimentReport: Codable, Sendable {
    public struct Arm: Codable, Sendable {
        public var arm: String
        public var model: String
        /// Distinct users of the arm (as `ExperimentState`'s `assigned`).
        public var users: Int?
        public var requests: Int
        public var feedback: Int
        public var clicks: Int
        public var ctr: Double
        public var ctrLow: Double
        public var ctrHigh: Double
        public var logloss: Double?
        /// Versions the arm's slot keeps in memory.
        public var versions: Int?
        /// The arm's exploration policy (`greedy`, `epsilon 0.05`, `softmax T=0.01`).
        public var explore: String?
        /// Off-policy estimates made from this arm's traffic of every arm's policy value (this arm's
        /// own included); empty while the arm does not explore.
        public var policyEstimates: [PolicyEstimate]?

        enum CodingKeys: String, CodingKey {
            case arm, model, users, requests, feedback, clicks, ctr, ctrLow = "ctr_low", ctrHigh = "ctr_high", logloss, versions
            case explore, policyEstimates = "policy_estimates"
        }

        public init(
            arm: String, model: String, requests: Int, feedback: Int, clicks: Int, ctr: Double, ctrLow: Double, ctrHigh: Double,
            logloss: Double?, versions: Int?, explore: String? = nil, policyEstimates: [PolicyEstimate]? = nil, users: Int? = nil
        ) {
            self.users = users
            self.explore = explore
            self.policyEstimates = policyEstimates
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

    /// The click rate of the first shown item that `target`'s policy would have had, estimated from
    /// the impressions one arm served (their first items' feedback and propensities): IPS, SNIPS and
    /// DR (the target arm's model as reward model), each with its 95% interval.
    public struct PolicyEstimate: Codable, Sendable {
        public var target: String
        public var events: Int
        public var ips: Interval?
        public var snips: Interval?
        public var dr: Interval?

        public init(target: String, events: Int, ips: Interval?, snips: Interval?, dr: Interval?) {
            self.target = target
            self.events = events
            self.ips = ips
            self.snips = snips
            self.dr = dr
        }
    }

    /// `{"value": v, "ci": [lo, hi]}` (`ci` null below two events).
    public struct Interval: Codable, Sendable {
        public var value: Double
        public var ci: [Double]?

        public init(value: Double, ci: [Double]?) {
            self.value = value
            self.ci = ci
        }
    }

    /// An arm against the first (baseline) arm with always-valid 95% intervals (Howard et al. 2021's
    /// normal-mixture confidence sequences): they hold at every look, so the report may be read at any
    /// time and a difference called significant when its interval excludes 0.
    public struct Comparison: Codable, Sendable {
        public var arm: String
        public var baseline: String
        /// The arm's model's log loss minus the baseline's, both scoring every feedback event of the
        /// experiment (prediction quality: meaningful whether or not the models chose the items).
        public var pairedLogloss: Sequential?
        /// The CTR of each user's first feedback on a recommendation their arm's model chose: the
        /// arm's, the baseline's, and their difference. Nil until both arms have such users.
        public var userCTR: UserCTR?

        enum CodingKeys: String, CodingKey { case arm, baseline, pairedLogloss = "paired_logloss", userCTR = "user_ctr" }

        public init(arm: String, baseline: String, pairedLogloss: Sequential?, userCTR: UserCTR?) {
            self.arm = arm
            self.baseline = baseline
            self.pairedLogloss = pairedLogloss
            self.userCTR = userCTR
        }
    }

    /// A mean (or difference) with its always-valid 95% interval.
    public struct Sequential: Codable, Sendable {
        public var value: Double
        public var ci: [Double]
        public var count: Int
        /// The interval excludes 0.
        public var significant: Bool

        public init(value: Double, ci: [Double], count: Int, significant: Bool) {
            self.value = value
            self.ci = ci
            self.count = count
            self.significant = significant
        }
    }

    public struct UserCTR: Codable, Sendable {
        public var arm: Double
        public var armUsers: Int
        public var baseline: Double
        public var baselineUsers: Int
        /// arm − baseline, with its always-valid interval.
        public var difference: Sequential

        enum CodingKeys: String, CodingKey { case arm, armUsers = "arm_users", baseline, baselineUsers = "baseline_users", difference }

        public init(arm: Double, armUsers: Int, baseline: Double, baselineUsers: Int, difference: Sequential) {
            self.arm = arm
            self.armUsers = armUsers
            self.baseline = baseline
            self.baselineUsers = baselineUsers
            self.difference = difference
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
    /// Requests not counted for any arm (forced users, users outside the experiment).
    public var excluded: ExcludedRequests?
    /// Each arm after the first against the first, always valid.
    public var comparisons: [Comparison]?
    /// What the counts cover: `process` (one process), `cluster` (every replica), or `replica`
    /// (cluster mode, but Redis did not answer: this replica's own).
    public var scope: String?

    enum CodingKeys: String, CodingKey {
        case experiment, revision, srmPValue = "srm_p_value", arms, differences, excluded, comparisons, scope
    }

    public init(experiment: String, revision: Int, srmPValue: Double, arms: [Arm], differences: [Difference], excluded: ExcludedRequests? = nil,
                comparisons: [Comparison]? = nil, scope: String? = nil) {
        self.scope = scope
        self.excluded = excluded
        self.comparisons = comparisons
        self.experiment = experiment
        self.revision = revision
        self.srmPValue = srmPValue
        self.arms = arms
        self.differences = differences
    }
}
