import DuetAPI
import Foundation
import Testing

/// Binds the API's types to its document: every request and response type is encoded (by
/// `JSONEncoder`, and the hot-path ones by their own writers too) and validated against the schema
/// the document gives it. A field added to a type but not to `openapi.json` (or the reverse, when
/// required) fails here.
@Suite struct OpenAPIDocumentTests {
    static var document: [String: Any] { try! JSONSerialization.jsonObject(with: Data(OpenAPIDocument.bytes)) as! [String: Any] }

    @Test func theDocumentIsOpenAPI31WithPaths() throws {
        #expect(Self.document["openapi"] as? String == "3.1.0")
        #expect((Self.document["paths"] as! [String: Any]).count >= 10)
        #expect(OpenAPIDocument.json.utf8.count == OpenAPIDocument.bytes.count)
    }

    static let model = ModelRef(slot: "online", version: "12")
    static let version = SlotInfo.Version(id: "12", parentID: "11", kind: "online", createdAt: 1.5e9, examples: 10, logloss: 0.3, auc: nil, current: true)
    static let slot = SlotInfo(slot: "online", current: "12", versions: [version])
    static let state = ExperimentState(key: "home", revision: 2, status: "running", srmPValue: 0.5, yaml: "key: home",
                                       arms: [.init(name: "static", weight: 0.5, model: "static", assigned: 3)])
    static let report = ExperimentReport(
        experiment: "home", revision: 2, srmPValue: 1,
        arms: [.init(arm: "static", model: "static", requests: 4, feedback: 2, clicks: 1, ctr: 0.5, ctrLow: 0.1, ctrHigh: 0.9, logloss: 0.6, versions: 1)],
        differences: [.init(arm: "online", baseline: "static", difference: 0.1, low: -0.2, high: 0.4)])
    static let revision = RevisionInfo(revision: 2, author: "ops", createdAt: 1.5e9, yaml: "key: home", revertedFrom: 1)
    static let audit = AuditRecord(id: 7, at: 1.5e9, actor: "ops", action: "model.rollback", target: "online", before: "12", after: "11")
    static let response = RecommendResponse(
        requestID: "r1", experiment: "home", arm: "online", inExperiment: true, model: model, featureVersion: "u@1,i@1",
        featuresDegraded: false, items: [ScoredItem(id: "7", score: 0.25)])

    /// Every type with the schema it must satisfy: a component, or a path's request body / response.
    static var cases: [(String, any Encodable, Schema.Location)] { [
        ("RecommendRequest", RecommendRequest(experiment: "home", user: "u1", candidates: ["1", "2"], k: 1, context: ["position": .string("1"), "age": .number(0.5)]), .component("RecommendRequest")),
        ("RecommendResponse", response, .component("RecommendResponse")),
        ("FeedbackRequest", FeedbackRequest(requestID: "r1", item: "7", label: 1), .component("FeedbackRequest")),
        ("FeedbackResponse", FeedbackResponse(accepted: true, experiment: "home", arm: "online"), .component("FeedbackResponse")),
        ("StatusBody", StatusBody(status: "ok"), .component("Status")),
        ("ErrorBody", ErrorBody(error: .init(code: "invalid_field", message: "k must be…", field: "k", details: ["a"])), .component("Error")),
        ("SlotInfo", slot, .component("Slot")),
        ("SlotList", SlotList(slots: [slot]), .response("/v1/admin/models", "get", "200")),
        ("ClusterInfo", ClusterInfo(
            mode: "cluster", cluster: "c", me: "r0", trainer: "r1", leaseToken: 4,
            replicas: [.init(replica: "r0", address: "10.0.0.1:8080", version: "12", seenAt: 1.7e9, trainer: false)], version: "12", head: "12",
            stream: .init(length: 10, last: "1-0", readThrough: nil), published: 0, applied: 3, resyncs: 1, redisError: nil), .component("Cluster")),
        ("SwapInfo", SwapInfo(slot: "online", from: "12", to: "11", swapSeconds: 1e-7), .component("Swap")),
        ("RollbackRequest", RollbackRequest(to: "11"), .requestBody("/v1/admin/models/{slot}/rollback", "post")),
        ("PromoteRequest", PromoteRequest(version: "11"), .requestBody("/v1/admin/models/{slot}/promote", "post")),
        ("ExperimentState", state, .component("ExperimentState")),
        ("ExperimentList", ExperimentList(experiments: [state]), .response("/v1/admin/experiments", "get", "200")),
        ("ExperimentBatch", ExperimentBatch(configs: [.init(file: "home.yaml", yaml: "key: home")]), .requestBody("/v1/admin/experiments", "put")),
        ("AppliedRevisions", AppliedRevisions(applied: [.init(key: "home", revision: 3)]), .component("Applied")),
        ("RevisionInfo", revision, .component("Revision")),
        ("RevisionList", RevisionList(revisions: [revision]), .response("/v1/admin/experiments/{key}/history", "get", "200")),
        ("RevertRequest", RevertRequest(to: 1), .requestBody("/v1/admin/experiments/{key}/revert", "post")),
        ("ExperimentReport", report, .component("Report")),
        ("AuditRecord", audit, .component("AuditEntry")),
        ("AuditList", AuditList(entries: [audit]), .response("/v1/admin/audit", "get", "200")),
    ] }

    @Test(arguments: cases.indices)
    func everyTypeEncodesToItsSchema(_ i: Int) throws {
        let (name, value, location) = Self.cases[i]
        let schema = try #require(Schema.resolve(location, in: Self.document), "\(name): no schema at \(location)")
        let problems = try Schema.validate(JSONEncoder().encode(value), schema, document: Self.document, path: name)
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test func theHotPathWriterAndReadersAgreeWithTheSchema() throws {
        let schema = try #require(Schema.resolve(.component("RecommendResponse"), in: Self.document))
        #expect(try Schema.validate(Data(Self.response.json), schema, document: Self.document, path: "RecommendResponse.json").isEmpty)
        // The hot-path readers read what JSONEncoder writes for the same types.
        let request = RecommendRequest(experiment: "home", user: "u1", candidates: ["1"], k: 2, context: ["a": .number(1.5)])
        let back = try JSONEncoder().encode(request).withUnsafeBytes { try RecommendRequest(json: $0) }
        #expect(back.experiment == request.experiment && back.candidates == request.candidates && back.k == request.k && back.context == request.context)
        let feedback = FeedbackRequest(requestID: "r", item: "7", label: 0.5)
        let fb = try JSONEncoder().encode(feedback).withUnsafeBytes { try FeedbackRequest(json: $0) }
        #expect(fb.requestID == "r" && fb.item == "7" && fb.label == 0.5)
    }

    @Test func theValidatorCatchesWhatTheSchemaForbids() throws {
        let schema = try #require(Schema.resolve(.component("RecommendRequest"), in: Self.document))
        for bad in [#"{"experiment": "e"}"#, #"{"experiment": "e", "user": "u", "context": {"age": 1e7}}"#, #"{"experiment": "e", "user": "u", "k": "3"}"#,
                    #"{"experiment": "e", "user": ""}"#, #"{"experiment": "e", "user": "u", "k": 1.5}"#, #"{"experiment": true, "user": "u"}"#] {
            #expect(try !Schema.validate(Data(bad.utf8), schema, document: Self.document, path: "r").isEmpty, "\(bad)")
        }
        // Nulls, which the reader reads as absent, are valid by the document too.
        for good in [#"{"experiment": "e", "user": "u", "k": 2}"#,
                     #"{"experiment": "e", "user": "u", "k": null, "candidates": null, "context": null}"#] {
            #expect(try Schema.validate(Data(good.utf8), schema, document: Self.document, path: "r").isEmpty, "\(good)")
        }
    }
}

/// The part of JSON Schema (2020-12, as OpenAPI 3.1 uses it) the document uses: type, required,
/// properties, additionalProperties, maxProperties, items, $ref, minLength, minItems, maxItems, minimum, maximum.
enum Schema {
    enum Location: CustomStringConvertible {
        case component(String)
        case requestBody(String, String)
        case response(String, String, String)

        var description: String {
            switch self {
            case .component(let n): "#/components/schemas/\(n)"
            case .requestBody(let p, let m): "\(m.uppercased()) \(p) request body"
            case .response(let p, let m, let s): "\(m.uppercased()) \(p) \(s)"
            }
        }
    }

    static func resolve(_ location: Location, in doc: [String: Any]) -> [String: Any]? {
        let paths = doc["paths"] as? [String: [String: Any]]
        func json(_ content: Any?) -> [String: Any]? {
            ((content as? [String: Any])?["content"] as? [String: Any])?["application/json"].flatMap { ($0 as? [String: Any])?["schema"] as? [String: Any] }
        }
        switch location {
        case .component(let name):
            return ((doc["components"] as? [String: Any])?["schemas"] as? [String: Any])?[name] as? [String: Any]
        case .requestBody(let path, let method):
            return json((paths?[path]?[method] as? [String: Any])?["requestBody"])
        case .response(let path, let method, let status):
            return json(((paths?[path]?[method] as? [String: Any])?["responses"] as? [String: Any])?[status])
        }
    }

    static func validate(_ value: JSONValue, _ schema: [String: Any], document: [String: Any], path: String) -> [String] {
        if let ref = schema["$ref"] as? String {
            guard let target = resolve(.component(String(ref.split(separator: "/").last ?? "")), in: document) else { return ["\(path): unresolved \(ref)"] }
            return validate(value, target, document: document, path: path)
        }
        var problems: [String] = []
        if let type = schema["type"] {
            let types = (type as? [String]) ?? [type as? String ?? ""]
            guard types.contains(where: { value.matches($0) }) else { return ["\(path): \(value) is not of type \(types)"] }
        }
        switch value {
        case .string(let s):
            if let min = schema["minLength"] as? Int, s.count < min { problems.append("\(path): shorter than \(min)") }
        case .number(let n):
            if let min = (schema["minimum"] as? NSNumber)?.doubleValue, n < min { problems.append("\(path): below \(min)") }
            if let max = (schema["maximum"] as? NSNumber)?.doubleValue, n > max { problems.append("\(path): above \(max)") }
        case .array(let array):
            if let min = schema["minItems"] as? Int, array.count < min { problems.append("\(path): fewer than \(min) items") }
            if let max = schema["maxItems"] as? Int, array.count > max { problems.append("\(path): more than \(max) items") }
            if let items = schema["items"] as? [String: Any] {
                for (i, element) in array.enumerated() { problems += validate(element, items, document: document, path: "\(path)[\(i)]") }
            }
        case .object(let object):
            let properties = schema["properties"] as? [String: [String: Any]] ?? [:]
            if let max = schema["maxProperties"] as? Int, object.count > max { problems.append("\(path): more than \(max) properties") }
            for key in schema["required"] as? [String] ?? [] where object[key] == nil { problems.append("\(path): missing required '\(key)'") }
            for (key, v) in object.sorted(by: { $0.key < $1.key }) {
                if let p = properties[key] {
                    problems += validate(v, p, document: document, path: "\(path).\(key)")
                } else if let extra = schema["additionalProperties"] {
                    if let allowed = extra as? Bool, !allowed { problems.append("\(path): '\(key)' is not in the schema") }
                    if let s = extra as? [String: Any] { problems += validate(v, s, document: document, path: "\(path).\(key)") }
                } else if !properties.isEmpty {
                    // Open objects are valid JSON Schema, but a type of ours should not write fields its document lacks.
                    problems.append("\(path): '\(key)' is not described in the document")
                }
            }
        case .bool, .null:
            break
        }
        return problems
    }

    /// Validates the bytes `data` (one JSON value).
    static func validate(_ data: Data, _ schema: [String: Any], document: [String: Any], path: String) throws -> [String] {
        validate(try JSONDecoder().decode(JSONValue.self, from: data), schema, document: document, path: path)
    }
}

/// A JSON value with its kind kept exact (booleans are not numbers).
enum JSONValue: Decodable, CustomStringConvertible {
    case object([String: JSONValue]), array([JSONValue]), string(String), number(Double), bool(Bool), null

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null } else if let b = try? c.decode(Bool.self) { self = .bool(b) } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else if let s = try? c.decode(String.self) { self = .string(s) } else if let a = try? c.decode([JSONValue].self) { self = .array(a) } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    func matches(_ type: String) -> Bool {
        switch (type, self) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null), ("number", .number): true
        case ("integer", .number(let d)): d.rounded() == d
        default: false
        }
    }

    var description: String {
        switch self {
        case .object(let o): "object(\(o.keys.sorted()))"
        case .array(let a): "array(\(a.count))"
        case .string(let s): s.debugDescription
        case .number(let d): "\(d)"
        case .bool(let b): "\(b)"
        case .null: "null"
        }
    }
}
