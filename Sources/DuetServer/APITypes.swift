import Foundation
import NIOCore

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

extension RecommendRequest {
    /// Reads a request body with `JSONScanner`: unknown keys are skipped, `null` is absent, and
    /// every problem is a 400 naming the field.
    init(json body: ByteBuffer) throws {
        self = try body.withUnsafeReadableBytes { bytes in
            var s = JSONScanner(bytes)
            return try RequestDecoding.scanning(&s) { s in
                var experiment: String?, user: String?, candidates: [String]?, k: Int?, context: [String: ContextValue]?
                try RequestDecoding.object(&s, "(body)")
                while let key = try s.nextKey() {
                    switch key {
                    case "experiment": experiment = try RequestDecoding.string(&s, "experiment")
                    case "user": user = try RequestDecoding.string(&s, "user")
                    case "k": k = try RequestDecoding.integer(&s, "k")
                    case "candidates":
                        if s.null() { candidates = nil; continue }
                        guard try s.peek() == .array else { throw APIError.badField("candidates", "wrong type for 'candidates': expected an array of strings") }
                        var list: [String] = []
                        list.reserveCapacity(128)
                        try s.beginArray()
                        while try s.nextElement() {
                            // (The field name is built only on error: this runs once per candidate.)
                            guard try s.peek() == .string else {
                                throw APIError.badField("candidates[\(list.count)]", "wrong type for 'candidates[\(list.count)]': expected a string")
                            }
                            list.append(try s.string())
                        }
                        candidates = list
                    case "context":
                        if s.null() { context = nil; continue }
                        try RequestDecoding.object(&s, "context")
                        var c: [String: ContextValue] = [:]
                        while let name = try s.nextKey() {
                            switch try s.peek() {
                            case .string: c[name] = .string(try s.string())
                            case .number: c[name] = .number(try s.number())
                            case .bool: c[name] = .string(try s.bool() ? "true" : "false")
                            default: throw APIError.badField("context.\(name)", "wrong type for 'context.\(name)': expected a string or a number")
                            }
                        }
                        context = c
                    default: try s.skipValue()
                    }
                }
                guard let experiment else { throw APIError.badField("experiment", "missing required field 'experiment'") }
                guard let user else { throw APIError.badField("user", "missing required field 'user'") }
                return RecommendRequest(experiment: experiment, user: user, candidates: candidates, k: k, context: context)
            }
        }
    }
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

extension RecommendResponse {
    /// The body, written with `JSONWriter` (keys in sorted order, as the other routes' JSONEncoder writes them).
    var json: ByteBuffer {
        var w = JSONWriter(capacity: 256 + 48 * items.count)
        w.raw("{"); w.key("arm"); w.string(arm)
        w.comma(); w.key("experiment"); w.string(experiment)
        w.comma(); w.key("feature_version"); w.string(featureVersion)
        w.comma(); w.key("features_degraded"); w.bool(featuresDegraded)
        w.comma(); w.key("in_experiment"); w.bool(inExperiment)
        w.comma(); w.key("items"); w.raw("[")
        for (i, item) in items.enumerated() {
            if i > 0 { w.comma() }
            w.raw("{"); w.key("id"); w.string(item.id); w.comma(); w.key("score"); w.number(Float(item.score)); w.raw("}")
        }
        w.raw("]")
        w.comma(); w.key("model"); w.raw("{"); w.key("slot"); w.string(model.slot); w.comma(); w.key("version"); w.string(model.version); w.raw("}")
        w.comma(); w.key("request_id"); w.string(requestID)
        w.raw("}")
        return w.buffer
    }
}

extension FeedbackRequest {
    init(json body: ByteBuffer) throws {
        self = try body.withUnsafeReadableBytes { bytes in
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
                        guard try s.peek() == .number else { throw APIError.badField("label", "wrong type for 'label': expected a number") }
                        label = try s.number()
                    default: try s.skipValue()
                    }
                }
                guard let requestID else { throw APIError.badField("request_id", "missing required field 'request_id'") }
                guard let item else { throw APIError.badField("item", "missing required field 'item'") }
                guard let label else { throw APIError.badField("label", "missing required field 'label'") }
                return FeedbackRequest(requestID: requestID, item: item, label: label)
            }
        }
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

    /// Runs a `JSONScanner`-based reader over a whole body: syntax errors become 400 malformed_json.
    static func scanning<T>(_ s: inout JSONScanner, _ read: (inout JSONScanner) throws -> T) throws -> T {
        do {
            let value = try read(&s)
            try s.end()
            return value
        } catch let e as JSONScanner.SyntaxError {
            throw APIError(.badRequest, code: "malformed_json", message: "request body is not valid JSON: \(e)")
        }
    }

    static func object(_ s: inout JSONScanner, _ field: String) throws {
        guard try s.peek() == .object else {
            throw APIError.badField(field, field == "(body)" ? "the request body must be a JSON object" : "wrong type for '\(field)': expected an object")
        }
        try s.beginObject()
    }

    /// A string, or nil for `null`.
    static func string(_ s: inout JSONScanner, _ field: String) throws -> String? {
        if s.null() { return nil }
        guard try s.peek() == .string else { throw APIError.badField(field, "wrong type for '\(field)': expected a string") }
        return try s.string()
    }

    /// An integer, or nil for `null`.
    static func integer(_ s: inout JSONScanner, _ field: String) throws -> Int? {
        if s.null() { return nil }
        guard try s.peek() == .number else { throw APIError.badField(field, "wrong type for '\(field)': expected an integer") }
        let d = try s.number()
        guard d.rounded() == d, abs(d) < 1e15 else { throw APIError.badField(field, "wrong type for '\(field)': expected an integer, got \(d)") }
        return Int(d)
    }

    static func path(_ keys: [any CodingKey]) -> String {
        var out = ""
        for key in keys {
            if let i = key.intValue { out += "[\(i)]" } else { out += out.isEmpty ? key.stringValue : "." + key.stringValue }
        }
        return out.isEmpty ? "(body)" : out
    }
}
