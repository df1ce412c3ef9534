import DuetTestSupport
import Foundation
import Testing

/// The report's always-valid comparisons on the real server: paired log loss on every feedback event,
/// CTR on users only where the models chose, and plain words for both.
@Suite(.serialized) struct ComparisonTests {
    static func report(_ s: DuetServerProcess) async throws -> [String: Any] {
        try await ServerHarness.admin(s, "GET", "/v1/admin/experiments/homepage/report").1
    }

    /// Logged-replay traffic (one candidate, shown): the models choose nothing, so there is no CTR
    /// comparison on users, the per-event CTR line says so, and prediction quality is compared.
    @Test func whenTheModelsChooseNothingOnlyPredictionQualityIsCompared() async throws {
        let s = try await ServerHarness.start(try ServerHarness.dataDirectory())
        defer { s.stop() }
        var events = 0
        for i in 0..<300 {
            let rec = try await ServerHarness.recommend(s, user: "replay-\(i)", candidates: ["\(i % 34)"], k: 1)
            let (st, _) = try await s.post("/v1/feedback", ["request_id": rec["request_id"]!, "item": "\(i % 34)", "label": i % 40 == 0 ? 1 : 0])
            if st == 200 { events += 1 }
        }
        let r = try await Self.report(s)
        let c = try #require((r["comparisons"] as? [[String: Any]])?.first)
        #expect(c["arm"] as? String == "online" && c["baseline"] as? String == "static")
        #expect(c["user_ctr"] == nil || c["user_ctr"] is NSNull)
        let paired = try #require(c["paired_logloss"] as? [String: Any])
        #expect(paired["count"] as? Int == events, "\(paired)")
        let ci = try #require(paired["ci"] as? [Double])
        #expect(ci.count == 2 && ci[0] <= (paired["value"] as! Double) && (paired["value"] as! Double) <= ci[1])
        #expect(paired["significant"] as? Bool == (ci[0] > 0 || ci[1] < 0))
        let text = try ServerHarness.cli(s, ["experiment", "report", "homepage"]).stdout
        #expect(text.contains("no model chose among candidates here"), "\(text)")
        #expect(text.contains("paired log loss online − static (both models score every feedback event)"), "\(text)")
        #expect(text.contains("CTR on users online vs static: no comparison yet"), "\(text)")
    }

    /// Both arms serve the same static model and choose among four candidates: the paired loss is
    /// exactly 0 on every event, and the CTR on users is each arm's users' first feedback.
    @Test func ctrOnUsersCountsEachUsersFirstFeedbackOnAChoice() async throws {
        let s = try await ServerHarness.start(try ServerHarness.dataDirectory())
        defer { s.stop() }
        let path = try TestSupport.temporaryDirectory("exp").appendingPathComponent("homepage.yaml").path
        try """
        key: homepage
        arms:
          - {name: a, model: static}
          - {name: b, model: static@obd-static}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try ServerHarness.cli(s, ["experiment", "apply", path]).status == 0)
        var first: [String: [Double]] = [:]
        for i in 0..<240 {
            let user = "cmp-\(i % 120)"  // every user twice: only the first feedback counts
            let rec = try await ServerHarness.recommend(s, user: user, candidates: ["1", "2", "3", "4"], k: 1)
            let item = (rec["items"] as! [[String: Any]])[0]["id"] as! String
            let label = (i * 31) % 7 == 0 ? 1.0 : 0.0
            #expect(try await s.post("/v1/feedback", ["request_id": rec["request_id"]!, "item": item, "label": label]).0 == 200)
            if i < 120 { first[rec["arm"] as! String, default: []].append(label) }
        }
        let c = try #require((try await Self.report(s))["comparisons"] as? [[String: Any]])[0]
        let paired = try #require(c["paired_logloss"] as? [String: Any])
        #expect(paired["value"] as? Double == 0 && paired["significant"] as? Bool == false && paired["count"] as? Int == 240)
        let u = try #require(c["user_ctr"] as? [String: Any])
        let a = first["a"] ?? [], b = first["b"] ?? []
        #expect(u["baseline_users"] as? Int == a.count && u["arm_users"] as? Int == b.count)
        #expect(abs((u["baseline"] as! Double) - a.reduce(0, +) / Double(a.count)) < 1e-12)
        #expect(abs((u["arm"] as! Double) - b.reduce(0, +) / Double(b.count)) < 1e-12)
        let d = try #require(u["difference"] as? [String: Any])
        let ci = try #require(d["ci"] as? [Double])
        #expect(d["significant"] as? Bool == (ci[0] > 0 || ci[1] < 0))
        let text = try ServerHarness.cli(s, ["experiment", "report", "homepage"]).stdout
        #expect(text.contains("CTR on users (each user's first feedback on a recommendation the model chose) b "), "\(text)")
    }
}
