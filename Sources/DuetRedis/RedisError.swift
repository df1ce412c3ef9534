/// An error from the Redis client: the connection, a command, or the worker pool's budget.
///
/// `message` is one line saying what went wrong and where (the URL, the command).
public struct RedisError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        /// Connecting, authenticating, or I/O on the socket failed.
        case connection
        /// Redis answered a command with an error (the reply's text is the cause).
        case command
        /// The deadline passed before Redis answered (or before a thread could ask it).
        case timeout
        /// Every worker queue was full, or the pool is shut down.
        case overloaded
        /// The `redis://` URL does not parse.
        case invalidURL
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
