/// A request body the API refuses: what is wrong and, when one field is to blame, which.
/// The server answers it with a 400 and `{"error": {"code", "message", "field"}}`.
public struct RequestError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case invalidField = "invalid_field"
        case malformedJSON = "malformed_json"
    }
    public var code: Code
    public var message: String
    public var field: String?

    public init(_ code: Code, message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }

    /// A field that is missing, of the wrong type, or out of range.
    public static func invalidField(_ field: String, _ message: String) -> RequestError {
        RequestError(.invalidField, message: message, field: field)
    }

    public var description: String { field.map { "\($0): \(message)" } ?? message }
}
