import DuetJSON
import Foundation

/// `POST /v1/recommend`.
public struct RecommendRequest: Codable, Sendable {
    public var experiment: String
    public var user: String
    public var candidates: [String]?
    public var k: Int?
    public var context: [String: ContextValue]?

    public init(experiment: String, user: String, candidates: [String]? = nil, k: Int? = nil, context: [String: ContextValue]? = nil) {
        self.experiment = experiment
        self.user = user
        self.candidates = candidates
        self.k = k
        self.context = context
    }
}

extension RecommendRequest {
    /// Reads a request body with `JSONScanner`: unknown keys are skipped, `null` is absent, and
    /// every problem is a 400 naming the field.
    public init(json bytes: UnsafeRawBufferPointer) throws {
        self = try {
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
                        guard try s.peek() == .array else { throw RequestError.invalidField("candidates", "wrong type for 'candidates': expected an array of strings") }
                        var list: [String] = []
                        list.reserveCapacity(128)
                        try s.beginArray()
                        while try s.nextElement() {
                            // (The field name is built only on error: this runs once per candidate.)
                            guard try s.peek() == .string else {
                                throw RequestError.invalidField("candidates[\(list.count)]", "wrong type for 'candidates[\(list.count)]': expected a string")
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
                            default: throw RequestError.invalidField("context.\(name)", "wrong type for 'context.\(name)': expected a string or a number")
                            }
                        }
                        context = c
                    default: try s.skipValue()
                    }
                }
                guard let experiment else { throw RequestError.invalidField("experiment", "missing required field 'experiment'") }
                guard let user else { throw RequestError.invalidField("user", "missing required field 'user'") }
                return RecommendRequest(experiment: experiment, user: user, candidates: candidates, k: k, context: context)
            }
        }()
    }
}
