/// One live experiment as `GET /v1/admin/experiments[/{key}]` shows it.
public struct ExperimentState: Codable, Sendable {
    public struct Arm: Codable, Sendable {
        public var name: String
        public var weight: Double
        /// `slot` or `slot@version`.
        public var model: String
        /// Distinct users assigned to the arm (hashed into the experiment, not forced) since the
        /// revision went live (each counted once; see the README, Counting users).
        public var assigned: Int

        public init(name: String, weight: Double, model: String, assigned: Int) {
            self.name = name
            self.weight = weight
            self.model = model
            self.assigned = assigned
        }
    }

    public var key: String
    public var revision: Int
    public var status: String
    public var srmPValue: Double
    public var yaml: String
    public var arms: [Arm]
    /// Requests not counted for any arm.
    public var excluded: ExcludedRequests?

    enum CodingKeys: String, CodingKey {
        case key, revision, status, srmPValue = "srm_p_value", yaml, arms, excluded
    }

    public init(key: String, revision: Int, status: String, srmPValue: Double, yaml: String, arms: [Arm], excluded: ExcludedRequests? = nil) {
        self.excluded = excluded
        self.key = key
        self.revision = revision
        self.status = status
        self.srmPValue = srmPValue
        self.yaml = yaml
        self.arms = arms
    }
}

/// `GET /v1/admin/experiments`.
public struct ExperimentList: Codable, Sendable {
    public var experiments: [ExperimentState]
    public init(experiments: [ExperimentState]) { self.experiments = experiments }
}
