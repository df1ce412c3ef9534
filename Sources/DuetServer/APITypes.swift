import Foundation

/// A value in a request's `context`: a string (categorical) or a finite number.
public enum ContextValue: Codable, Sendable, Equatable {
    case string(String)
    case number(Double)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else if let b = try? c.decode(Bool.self) {
            self = .string(b ? "true" : "false")
        } else {
            throw DecodingError.typeMismatch(
                ContextValue.self, .init(codingPath: c.codingPath, debugDescription: "expected a string or a number"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .number(let d): try c.encode(d)
        }
    }
}

/// `POST /v1/recommend`.
public struct RecommendRequest: Codable, Sendable {
    public var experiment: String
    public var user: String
    public var candidates: [String]?
    public var k: Int?
    public var context: [String: ContextValue]?
}

public struct ScoredItem: Codable, Sendable {
    public var id: String
    public var score: Double
}

public struct ModelRef: Codable, Sendable {
    public var slot: String
    public var version: String
}

public struct RecommendResponse: Codable, Sendable {
    public var requestID: String
    public var experiment: String
    public var arm: String
    public var inExperiment: Bool
    public var model: ModelRef
    public var featureVersion: String
    public var featuresDegraded: Bool
    public var items: [ScoredItem]

    enum CodingKeys: String, CodingKey {
        case requestID = "request_id", experiment, arm, inExperiment = "in_experiment", model
        case featureVersion = "feature_version", featuresDegraded = "features_degraded", items
    }
}

/// `POST /v1/feedback`.
public struct FeedbackRequest: Codable, Sendable {
    public var requestID: String
    public var item: String
    public var label: Double

    enum CodingKeys: String, CodingKey {
        case requestID = "request_id", item, label
    }
}

public struct FeedbackResponse: Codable, Sendable {
    public var accepted: Bool
    public var experiment: String
    public var arm: String
}

enum RequestDecoding {
    /// Decodes a JSON body, turning decoding failures into a 400 that names the field.
    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            switch error {
            case .keyNotFound(let key, let ctx):
                throw APIError.badField(path(ctx.codingPath + [key]), "missing required field '\(path(ctx.codingPath + [key]))'")
            case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx):
                let field = path(ctx.codingPath)
                throw APIError.badField(field, "wrong type for '\(field)': \(ctx.debugDescription)")
            case .dataCorrupted(let ctx):
                if ctx.codingPath.isEmpty {
                    throw APIError(.badRequest, code: "malformed_json", message: "request body is not valid JSON")
                }
                let field = path(ctx.codingPath)
                throw APIError.badField(field, "invalid value for '\(field)': \(ctx.debugDescription)")
            @unknown default:
                throw APIError(.badRequest, code: "malformed_json", message: "request body could not be decoded")
            }
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        var out = ""
        for key in keys {
            if let i = key.intValue { out += "[\(i)]" } else { out += out.isEmpty ? key.stringValue : "." + key.stringValue }
        }
        return out.isEmpty ? "(body)" : out
    }
}
