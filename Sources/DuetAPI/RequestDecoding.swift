import DuetJSON
import Foundation

/// Shared steps of the request readers: `JSONDecoder` for the admin bodies, `JSONScanner` for the hot path.
public enum RequestDecoding {
    /// Decodes a JSON body, turning decoding failures into a 400 that names the field.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            switch error {
            case .keyNotFound(let key, let ctx):
                throw RequestError.invalidField(path(ctx.codingPath + [key]), "missing required field '\(path(ctx.codingPath + [key]))'")
            case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx):
                let field = path(ctx.codingPath)
                throw RequestError.invalidField(field, "wrong type for '\(field)': \(ctx.debugDescription)")
            case .dataCorrupted(let ctx):
                if ctx.codingPath.isEmpty {
                    throw RequestError(.malformedJSON, message: "request body is not valid JSON")
                }
                let field = path(ctx.codingPath)
                throw RequestError.invalidField(field, "invalid value for '\(field)': \(ctx.debugDescription)")
            @unknown default:
                throw RequestError(.malformedJSON, message: "request body could not be decoded")
            }
        }
    }

    /// Runs a `JSONScanner`-based reader over a whole body: syntax errors become 400 malformed_json.
    public static func scanning<T>(_ s: inout JSONScanner, _ read: (inout JSONScanner) throws -> T) throws -> T {
        do {
            let value = try read(&s)
            try s.end()
            return value
        } catch let e as JSONScanner.SyntaxError {
            throw RequestError(.malformedJSON, message: "request body is not valid JSON: \(e)")
        }
    }

    public static func object(_ s: inout JSONScanner, _ field: String) throws {
        guard try s.peek() == .object else {
            throw RequestError.invalidField(field, field == "(body)" ? "the request body must be a JSON object" : "wrong type for '\(field)': expected an object")
        }
        try s.beginObject()
    }

    /// A string, or nil for `null`.
    public static func string(_ s: inout JSONScanner, _ field: String) throws -> String? {
        if s.null() { return nil }
        guard try s.peek() == .string else { throw RequestError.invalidField(field, "wrong type for '\(field)': expected a string") }
        return try s.string()
    }

    /// An integer, or nil for `null`.
    public static func integer(_ s: inout JSONScanner, _ field: String) throws -> Int? {
        if s.null() { return nil }
        guard try s.peek() == .number else { throw RequestError.invalidField(field, "wrong type for '\(field)': expected an integer") }
        let d = try s.number()
        guard d.rounded() == d, abs(d) < 1e15 else { throw RequestError.invalidField(field, "wrong type for '\(field)': expected an integer, got \(d)") }
        return Int(d)
    }

    public static func path(_ keys: [any CodingKey]) -> String {
        var out = ""
        for key in keys {
            if let i = key.intValue { out += "[\(i)]" } else { out += out.isEmpty ? key.stringValue : "." + key.stringValue }
        }
        return out.isEmpty ? "(body)" : out
    }
}
