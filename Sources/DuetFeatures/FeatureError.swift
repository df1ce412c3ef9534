import DuetJSON
import DuetRedis

/// An error from the feature store, the Redis client or a snapshot operation.
///
/// `message` is one line saying what went wrong and where (a key, a file, a URL).
public struct FeatureError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case invalidDefinition, invalidSnapshot, checksumMismatch, redis, timeout, overloaded,
            notFound, conflict, io, http, invalidArgument
    }
    public var code: Code
    public var message: String
    /// The underlying error's text, when there is one.
    public var cause: String?

    public init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { cause.map { "\(message): \($0)" } ?? message }
}

extension FeatureError {
    /// The feature store's view of a Redis client error.
    public init(_ e: RedisError) {
        let code: Code = switch e.code {
        case .connection, .command: .redis
        case .timeout: .timeout
        case .overloaded: .overloaded
        case .invalidURL: .invalidArgument
        }
        self.init(code, e.message, cause: e.cause)
    }

    /// A snapshot file that is not valid CSV.
    public init(_ e: CSVError) {
        self.init(.invalidSnapshot, e.description)
    }
}
