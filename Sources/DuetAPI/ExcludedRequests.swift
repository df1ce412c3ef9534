/// Requests an experiment served but does not count for any arm: forced users (`force:`, QA
/// traffic, not randomised) and users outside its coverage or namespace (served the default arm).
/// Their feedback is left out of the arms' figures too.
public struct ExcludedRequests: Codable, Sendable, Equatable {
    public var forced: Int
    public var outside: Int

    public init(forced: Int, outside: Int) {
        self.forced = forced
        self.outside = outside
    }
}
