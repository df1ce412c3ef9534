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
