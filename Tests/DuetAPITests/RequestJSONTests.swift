@testable import DuetAPI
import Foundation
import Testing

/// The hand-written request reader and response writer of the serving hot path, checked against
/// Foundation's JSON on the same inputs.
@Suite struct RequestJSONTests {
    func recommend(_ text: String) throws -> RecommendRequest {
        try Array(text.utf8).withUnsafeBytes { try RecommendRequest(json: $0) }
    }

    func apiError(_ text: String) -> RequestError? {
        do { _ = try recommend(text); return nil } catch { return error as? RequestError }
    }

    @Test func readsEveryFieldAndSkipsUnknownOnes() throws {
        let r = try recommend(#"""
         { "experiment" : "home\"page", "user":"u\u00e9\ud83d\ude00", "k": 3, "extra": {"a": [1, 2.5e-3, null, true, {"b": "c"}]},
           "candidates": ["1", "x\\y", "\/z"], "context": {"position": "1", "age": -0.25, "new": false, "big": 12345678901234567} }
        """#)
        #expect(r.experiment == "home\"page")
        #expect(r.user == "ué😀")
        #expect(r.k == 3)
        #expect(r.candidates == ["1", "x\\y", "/z"])
        #expect(r.context == ["position": .string("1"), "age": .number(-0.25), "new": .string("false"), "big": .number(12_345_678_901_234_568)])
    }

    @Test func nullsAreAbsent() throws {
        let r = try recommend(#"{"experiment": "e", "user": "u", "k": null, "candidates": null, "context": null}"#)
        #expect(r.k == nil && r.candidates == nil && r.context == nil)
    }

    @Test func problemsNameTheirField() throws {
        #expect(apiError("{not json")?.code == .malformedJSON)
        #expect(apiError(#"{"experiment": "e", "user": "u"} trailing"#)?.code == .malformedJSON)
        #expect(apiError(#"{"experiment": "e", "user": "u",}"#)?.code == .malformedJSON)
        #expect(apiError(#"{"experiment": "e", "user": "a\u0001"}"#) == nil)
        #expect(apiError("{\"experiment\": \"e\", \"user\": \"a\u{1}\"}")?.code == .malformedJSON)
        #expect(apiError(#"{"experiment": "e", "user": "\ud800"}"#)?.code == .malformedJSON)
        #expect(apiError(#"{"experiment": "e", "user": "u", "k": 01}"#)?.code == .malformedJSON)
        #expect(apiError(#"[1]"#)?.field == "(body)")
        #expect(apiError(#"{"experiment": "e"}"#)?.field == "user")
        #expect(apiError(#"{"user": "u"}"#)?.field == "experiment")
        #expect(apiError(#"{"experiment": "e", "user": 7}"#)?.field == "user")
        #expect(apiError(#"{"experiment": "e", "user": "u", "k": 2.5}"#)?.field == "k")
        #expect(apiError(#"{"experiment": "e", "user": "u", "k": "3"}"#)?.field == "k")
        #expect(apiError(#"{"experiment": "e", "user": "u", "candidates": "1"}"#)?.field == "candidates")
        #expect(apiError(#"{"experiment": "e", "user": "u", "candidates": ["1", 2]}"#)?.field == "candidates[1]")
        #expect(apiError(#"{"experiment": "e", "user": "u", "context": {"age": [1]}}"#)?.field == "context.age")
        #expect(apiError(#"{"x": "# + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "}")?.code == .malformedJSON)
        // 1e999 reads as infinity; the recommend validation refuses it by name.
        #expect(try recommend(#"{"experiment": "e", "user": "u", "context": {"age": 1e999}}"#).context?["age"] == .number(.infinity))
    }

    @Test func invalidUTF8IsMalformed() {
        let body = Array(#"{"experiment": "e", "user": "a"#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        #expect(throws: RequestError.self) { try body.withUnsafeBytes { try RecommendRequest(json: $0) } }
    }

    @Test func numbersMatchFoundation() throws {
        for text in ["0", "-0", "7", "-12", "3.25", "1e3", "-2.5E-4", "123456789012345", "1234567890123456789", "0.1", "5e-324"] {
            let r = try recommend(#"{"experiment": "e", "user": "u", "context": {"x": \#(text)}}"#)
            let expected = try JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed) as! NSNumber
            #expect(r.context?["x"] == .number(expected.doubleValue), "\(text)")
        }
    }

    @Test func feedbackReadsAndNamesProblems() throws {
        let f = try Array(#"{"request_id": "r", "item": "1", "label": 0.5}"#.utf8).withUnsafeBytes { try FeedbackRequest(json: $0) }
        #expect(f.requestID == "r" && f.item == "1" && f.label == 0.5)
        do {
            _ = try Array(#"{"request_id": "r", "item": "1"}"#.utf8).withUnsafeBytes { try FeedbackRequest(json: $0) }
            Issue.record("no error")
        } catch let e as RequestError {
            #expect(e.field == "label")
        }
    }

    @Test func responseIsValidJSONWithEscapedStrings() throws {
        let r = RecommendResponse(
            requestID: "abc", experiment: "e\"x\\p\n", arm: "ärm/1", inExperiment: true, model: ModelRef(slot: "static", version: "v\u{1}"),
            featureVersion: "u@v1,i@v2", featuresDegraded: false,
            items: [ScoredItem(id: "1", score: 0.25), ScoredItem(id: "two", score: 1e-7)])
        let data = Data(r.json)
        let j = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(j["experiment"] as? String == "e\"x\\p\n")
        #expect(j["arm"] as? String == "ärm/1")
        #expect((j["model"] as? [String: Any])?["version"] as? String == "v\u{1}")
        #expect(j["in_experiment"] as? Bool == true)
        let items = try #require(j["items"] as? [[String: Any]])
        #expect(items.map { $0["id"] as? String } == ["1", "two"])
        #expect(items.map { ($0["score"] as? NSNumber)?.floatValue } == [0.25, 1e-7])
        // The same keys as the Codable form.
        let codable = try JSONSerialization.jsonObject(with: JSONEncoder().encode(r)) as! [String: Any]
        #expect(Set(j.keys) == Set(codable.keys))
    }
}
