/// An event the off-policy estimators cannot use.
public struct OffPolicyError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable { case badReward, badPropensity, badTargetProbability, badPrediction }
    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { message }
}
