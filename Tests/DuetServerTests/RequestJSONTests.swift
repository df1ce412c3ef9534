import DuetFeatures
import DuetModels
@testable import DuetServer
import Foundation
import NIOCore
import Testing

/// The hand-written request reader and response writer of the serving hot path, checked against
/// Foundation's JSON on the same inputs.
@Suite struct RequestJSONTests {
    func recommend(_ text: String) throws -> RecommendRequest {
        try RecommendRequest(json: ByteBuffer(string: text))
    }

    func apiError(_ text: String) -> APIError? {
        do { _ = try recommend(text); return nil } catch { return error as? APIError }
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
        #expect(r.context == ["position": .string("1"), "age": .number(-0.25), "new": .string("false"), "big": .number(12345678901234567)])
    }

    @Test func nullsAreAbsent() throws {
        let r = try recommend(#"{"experiment": "e", "user": "u", "k": null, "candidates": null, "context": null}"#)
        #expect(r.k == nil && r.candidates == nil && r.context == nil)
    }

    @Test func problemsNameTheirField() throws {
        #expect(apiError("{not json")?.code == "malformed_json")
        #expect(apiError(#"{"experiment": "e", "user": "u"} trailing"#)?.code == "malformed_json")
        #expect(apiError(#"{"experiment": "e", "user": "u",}"#)?.code == "malformed_json")
        #expect(apiError(#"{"experiment": "e", "user": "a\u0001"}"#) == nil)
        #expect(apiError("{\"experiment\": \"e\", \"user\": \"a\u{1}\"}")?.code == "malformed_json")
        #expect(apiError(#"{"experiment": "e", "user": "\ud800"}"#)?.code == "malformed_json")
        #expect(apiError(#"{"experiment": "e", "user": "u", "k": 01}"#)?.code == "malformed_json")
        #expect(apiError(#"[1]"#)?.field == "(body)")
        #expect(apiError(#"{"experiment": "e"}"#)?.field == "user")
        #expect(apiError(#"{"user": "u"}"#)?.field == "experiment")
        #expect(apiError(#"{"experiment": "e", "user": 7}"#)?.field == "user")
        #expect(apiError(#"{"experiment": "e", "user": "u", "k": 2.5}"#)?.field == "k")
        #expect(apiError(#"{"experiment": "e", "user": "u", "k": "3"}"#)?.field == "k")
        #expect(apiError(#"{"experiment": "e", "user": "u", "candidates": "1"}"#)?.field == "candidates")
        #expect(apiError(#"{"experiment": "e", "user": "u", "candidates": ["1", 2]}"#)?.field == "candidates[1]")
        #expect(apiError(#"{"experiment": "e", "user": "u", "context": {"age": [1]}}"#)?.field == "context.age")
        #expect(apiError(#"{"x": "# + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "}")?.code == "malformed_json")
        // 1e999 reads as infinity; the recommend validation refuses it by name.
        #expect(try recommend(#"{"experiment": "e", "user": "u", "context": {"age": 1e999}}"#).context?["age"] == .number(.infinity))
    }

    @Test func invalidUTF8IsMalformed() {
        var body = ByteBuffer(string: #"{"experiment": "e", "user": "a"#)
        body.writeBytes([0xC3, 0x28])
        body.writeString(#""}"#)
        #expect(throws: APIError.self) { try RecommendRequest(json: body) }
    }

    @Test func numbersMatchFoundation() throws {
        for text in ["0", "-0", "7", "-12", "3.25", "1e3", "-2.5E-4", "123456789012345", "1234567890123456789", "0.1", "5e-324"] {
            let r = try recommend(#"{"experiment": "e", "user": "u", "context": {"x": \#(text)}}"#)
            let expected = try JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed) as! NSNumber
            #expect(r.context?["x"] == .number(expected.doubleValue), "\(text)")
        }
    }

    @Test func feedbackReadsAndNamesProblems() throws {
        let f = try FeedbackRequest(json: ByteBuffer(string: #"{"request_id": "r", "item": "1", "label": 0.5}"#))
        #expect(f.requestID == "r" && f.item == "1" && f.label == 0.5)
        do {
            _ = try FeedbackRequest(json: ByteBuffer(string: #"{"request_id": "r", "item": "1"}"#))
            Issue.record("no error")
        } catch let e as APIError {
            #expect(e.field == "label")
        }
    }

    @Test func responseIsValidJSONWithEscapedStrings() throws {
        let r = RecommendResponse(
            requestID: "abc", experiment: "e\"x\\p\n", arm: "ärm/1", inExperiment: true, model: ModelRef(slot: "static", version: "v\u{1}"),
            featureVersion: "u@v1,i@v2", featuresDegraded: false,
            items: [ScoredItem(id: "1", score: 0.25), ScoredItem(id: "two", score: 1e-7)])
        let buffer = r.json
        let data = Data(buffer.readableBytesView)
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

    @Test func topKIsTheSortedPrefix() {
        var g = SystemRandomNumberGenerator()
        for n in [1, 5, 100, 1000] {
            let scores = (0..<n).map { _ in Float(Int.random(in: 0..<50, using: &g)) / 50 }
            for k in [1, 3, 10, n] where k <= n {
                let expected = Array(scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }.prefix(k))
                #expect(DuetRuntime.topK(scores, k) == expected)
            }
        }
    }
}
