public struct FeedbackResponse: Codable, Sendable {
    public var accepted: Bool
    public var experiment: String
    public var arm: String

    public init(accepted: Bool, experiment: String, arm: String) {
        self.accepted = accepted
        self.experiment = experiment
        self.arm = arm
    }
}
