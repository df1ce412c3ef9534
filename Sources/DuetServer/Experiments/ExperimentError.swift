import DuetRouting

/// Why the experiment control refused a change or a lookup. `HTTP/` maps each case to a status.
public enum ExperimentError: Error, CustomStringConvertible, Sendable {
    /// No experiment by that key.
    case unknownExperiment(String)
    /// A config failed validation: every problem, nothing applied.
    case invalidConfig([ValidationProblem])
    /// A revert to a revision the experiment does not have.
    case unknownRevision(key: String, revision: Int, live: Int)
    /// A revert to "the revision before the live one" of an experiment that has only one.
    case noEarlierRevision(key: String, live: Int)

    public var description: String {
        switch self {
        case .unknownExperiment(let key): "no experiment '\(key)'"
        case .invalidConfig(let problems): "\(problems.count) problem(s); nothing was applied"
        case .unknownRevision(let key, let revision, let live): "experiment '\(key)' has no revision \(revision) (live is \(live))"
        case .noEarlierRevision(let key, let live): "experiment '\(key)' has no revision before its live one (\(live)) to revert to"
        }
    }
}
