import DuetJSON
import Foundation

/// `POST /v1/feedback`.
public struct FeedbackRequest: Codable, Sendable {
    public var requestID: String
    public var item: String
    public var label: Double

    enum CodingKeys: String, CodingKey {
        case requestID = "request_id", item, label
    }

    public init(requestID: String, item: String, label: Double) {
        self.requestID = requestID
        self.item = item
        self.label = label
    }
}

extension FeedbackRequest {
    /// Reads a request body (see `RecommendRequest.init(json:)`).
    public init(json bytes: UnsafeRawBufferPointer) throws {
        self = try {
            var s = JSONScanner(bytes)
            return try RequestDecoding.scanning(&s) { s in
                var requestID: String?, item: String?, label: Double?
                try RequestDecoding.object(&s, "(body)")
                while let key = try s.nextKey() {
                    switch key {
                    case "request_id": requestID = try RequestDecoding.string(&s, "request_id")
                    case "item": item = try RequestDecoding.string(&s, "item")
                    case "label":
                        guard !s.null() else { continue }
                        guard try s.peek() == .number else { throw RequestError.invalidField("label", "wrong type for 'label': expected a number") }
                        label = try s.number()
                    default: try s.skipValue()
                    }
                }
                guard let requestID else { throw RequestError.invalidField("request_id", "missing required field 'request_id'") }
                guard let item else { throw RequestError.invalidField("item", "missing required field 'item'") }
                guard let label else { throw RequestError.invalidField("label", "missing required field 'label'") }
                return FeedbackRequest(requestID: requestID, item: item, label: label)
            }
        }()
    }
}
