/// A feedback log that cannot be opened, written or read; the message names the file.
public struct FeedbackLogError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
