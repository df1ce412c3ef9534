/// `GET /healthz` and `GET /readyz`.
public struct StatusBody: Codable, Sendable {
    public var status: String
    public init(status: String) { self.status = status }
}

/// Every error response: `{"error": {"code", "message", "field"?, "details"?}}`.
public struct ErrorBody: Codable, Sendable {
    public struct Detail: Codable, Sendable {
        public var code: String
        public var message: String
        public var field: String?
        public var details: [String]?

        public init(code: String, message: String, field: String? = nil, details: [String]? = nil) {
            self.code = code
            self.message = message
            self.field = field
            self.details = details
        }
    }

    public var error: Detail
    public init(error: Detail) { self.error = error }
}
