import DuetAPI
import Foundation
import Hummingbird

/// An error that reaches an API client: an HTTP status and a JSON body naming the problem.
///
///     {"error": {"code": "invalid_field", "field": "k", "message": "k must be between 1 and 1000"}}
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var field: String?
    public var details: [String]?
    /// Sent as `Retry-After` (429s).
    public var retryAfterSeconds: Int?
    /// Sent as `Allow` (405s): the methods the resource has, e.g. `GET, HEAD, OPTIONS`.
    public var allow: String?

    public init(_ status: HTTPResponse.Status, code: String, message: String, field: String? = nil, details: [String]? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.details = details
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = ErrorBody(error: .init(code: code, message: message, field: field, details: details))
        var response = try JSONResponse.make(body, status: status)
        if status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
        // The unread rest of a refused body is not worth reading: the connection closes after this answer.
        if status == .contentTooLarge { response.headers[.connection] = "close" }
        if let retryAfterSeconds { response.headers[.retryAfter] = String(retryAfterSeconds) }
        if let allow { response.headers[.allow] = allow }
        return response
    }
}
