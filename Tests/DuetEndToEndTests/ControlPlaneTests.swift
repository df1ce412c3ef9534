import DuetRouting
import DuetTestSupport
import Foundation
import Testing

/// Experiments applied live, revisions and audit in SQLite, the guardrail and SRM, on the real server and CLI.
@Suite(.serialized) struct ControlPlaneTests {
    static func split(_ s: DuetServerProcess, users: Range<Int>, prefix: String = "split") async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for i in users {
            let r = try await ServerHarness.recommend(s, user: "\(prefix)-\(i)", candidates: ["1"], k: 1)
            counts[r["arm"] as? String ?? "?", default: 0] += 1
        }
        return counts
    }

    static func write(_ yaml: String) throws -> String {
        let path = try TestSupport.temporaryDirectory("exp").appendingPathComponent("homepage.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let allOnline = """
    key: homepage
    arms:
      - {name: static, weight: 0.0, model: static}
      - {name: online, weight: 1.0, model: online}
    """

    @Test func applyRevertAuditAndRestart() async throws {
        let dir = try ServerHarness.dataDirectory()
        let s = try await ServerHarness.start(dir)
        let before = try await Self.split(s, users: 0..<200)
        #expect(before["static", default: 0] > 90 && before["online", default: 0] > 50, "\(before)")

        // A client loops through the swap: no request may fail.
        let looping = Task { () -> Int in
            var failures = 0
            for i in 0..<300 where try await s.post("/v1/recommend", ["experiment": "homepage", "user": "loop-\(i)", "candidates": ["1"], "k": 1]).0 != 200 {
                failures += 1
            }
            return failures
        }
        let applied = try ServerHarness.cli(s, ["experiment", "apply", try Self.write(Self.allOnline)], token: ServerHarness.otherToken)
        #expect(applied.status == 0, "\(applied.stderr)")
        #expect(applied.stdout.contains("applied homepage revision 2"))
        #expect(try await looping.value == 0)
        #expect(try await Self.split(s, users: 0..<100) == ["online": 100])

        // A bad config is refused whole with every problem, and the split stays.
        let bad = try Self.write("key: homepage\ncoverage: 4\narms:\n  - {name: a, weight: 0.5, model: static}\n  - {name: a, weight: 0.5, model: gbm}\n")
        let refused = try ServerHarness.cli(s, ["experiment", "apply", bad])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("coverage") && refused.stderr.contains("arms[1].model") && refused.stderr.contains("arms[1].name"))
        #expect(try await Self.split(s, users: 0..<50) == ["online": 50])

        // Revert restores the previous split.
        let reverted = try ServerHarness.cli(s, ["experiment", "revert", "homepage"])
        #expect(reverted.status == 0 && reverted.stdout.contains("now revision 3"), "\(reverted.stdout)\(reverted.stderr)")
        #expect(try await Self.split(s, users: 0..<200) == before)

        // The audit names who did what.
        let audit = try ServerHarness.cli(s, ["audit", "--json"])
        let entries = (try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as! [String: Any])["entries"] as! [[String: Any]]
        let rows = entries.map { "\($0["actor"]!) \($0["action"]!) \($0["target"]!)" }
        #expect(rows.contains("alice experiment.apply homepage"))
        #expect(rows.contains("ops experiment.revert homepage"))
        let history = try ServerHarness.cli(s, ["experiment", "history", "homepage"])
        #expect(history.stdoutLines.count == 3)

        // A restart keeps the applied revisions.
        _ = try ServerHarness.cli(s, ["experiment", "apply", try Self.write(Self.allOnline)])
        #expect(s.stop() == 0)
        let restarted = try await ServerHarness.start(dir)
        defer { restarted.stop() }
        #expect(restarted.log.contains("experiments loaded from SQLite revisions"))
        #expect(try await Self.split(restarted, users: 0..<30) == ["online": 30])
        let list = try ServerHarness.cli(restarted, ["experiment", "list"])
        #expect(list.stdout.contains("homepage\trevision 4"))
        let diff = try ServerHarness.cli(restarted, ["experiment", "diff", "experiments/homepage.yaml"])
        #expect(diff.stdout.contains("- ") && diff.stdout.contains("+ "))
        #expect(diff.status == 1)  // as diff(1): they differ
        let same = try ServerHarness.cli(restarted, ["experiment", "diff", try Self.write(Self.allOnline)])
        #expect(same.status == 0 && same.stdout.contains("no change"), "\(same.stdout) \(same.stderr)")
        let broken = try ServerHarness.cli(restarted, ["experiment", "diff", "/nonexistent.yaml"])
        #expect(broken.status == 2 && broken.stderr.contains("/nonexistent.yaml"), "\(broken.stderr)")
    }

    @Test func srmCountsDistinctUsersAndLeavesForcedUsersOut() async throws {
        let s = try await ServerHarness.start(try ServerHarness.dataDirectory())
        defer { s.stop() }
        func state() async throws -> [String: Any] { try await ServerHarness.admin(s, "GET", "/v1/admin/experiments/homepage").1 }
        func users(_ st: [String: Any]) -> Int { (st["arms"] as! [[String: Any]]).map { $0["assigned"] as! Int }.reduce(0, +) }
        _ = try await Self.split(s, users: 0..<600, prefix: "balanced")
        let balanced = try await state()
        #expect((balanced["srm_p_value"] as! Double) > 0.001, "balanced split p = \(balanced["srm_p_value"]!)")
        #expect(users(balanced) == 600)
        // One user hammering the API (a bot) is one user: no mismatch.
        for _ in 0..<400 { _ = try await ServerHarness.recommend(s, user: "bot-1", candidates: ["1"], k: 1) }
        let hammered = try await state()
        #expect((hammered["srm_p_value"] as! Double) > 0.001, "one heavy user raised SRM: p = \(hammered["srm_p_value"]!)")
        #expect(users(hammered) == 601)
        // Forced users are counted apart, the same in the list, the report, the metrics and the status page.
        for _ in 0..<50 { _ = try await ServerHarness.recommend(s, user: "qa-online", candidates: ["1"], k: 1) }
        let forced = try await state()
        #expect(users(forced) == 601 && (forced["excluded"] as? [String: Any])?["forced"] as? Int == 50, "\(forced)")
        let report = try await ServerHarness.admin(s, "GET", "/v1/admin/experiments/homepage/report").1
        #expect((report["excluded"] as? [String: Any])?["forced"] as? Int == 50)
        #expect((report["arms"] as! [[String: Any]]).map { $0["requests"] as! Int }.reduce(0, +) == 1000)
        let metrics = String(decoding: try await s.get("/metrics").1, as: UTF8.self)
        #expect(metrics.contains("duet_srm_p_value{experiment=\"homepage\"}"))
        #expect(metrics.contains(#"duet_experiment_excluded_requests{experiment="homepage",reason="forced"} 50"#))
        let usersMetric = metrics.split(separator: "\n").filter { $0.hasPrefix("duet_experiment_users{experiment=\"homepage\"") }
            .compactMap { Double($0.split(separator: " ").last!) }.reduce(0, +)
        #expect(usersMetric == 601)
        let page = String(decoding: try await s.get("/").1, as: UTF8.self)
        #expect(page.contains("50 requests of forced users"))
        let list = try ServerHarness.cli(s, ["experiment", "list"])
        #expect(list.stdout.contains("not counted: 50 requests of forced users"), "\(list.stdout)")
        // A real mismatch: half the users the router sends to the online arm never arrive.
        let table = RouteTable(experiments: [try ExperimentLoader.parse(yaml: String(contentsOfFile: TestSupport.packageRoot.appendingPathComponent("experiments/homepage.yaml").path, encoding: .utf8), file: "homepage.yaml")])
        var skipped = 0
        for i in 0..<1600 {
            let user = "lost-\(i)"
            if table.assign(experiment: "homepage", user: user)?.arm == "online", i % 2 == 0 { skipped += 1; continue }
            _ = try await ServerHarness.recommend(s, user: user, candidates: ["1"], k: 1)
        }
        let skewed = try await state()
        #expect((skewed["srm_p_value"] as! Double) < 1e-6, "a lost half of one arm's users went unnoticed: p = \(skewed["srm_p_value"]!) (\(skipped) skipped)")
    }

    static let guarded = """
    key: homepage
    arms:
      - {name: static, weight: 0.5, model: static}
      - {name: online, weight: 0.5, model: online}
    guardrails: {max_logloss_ratio: 1.2, min_examples: 100, window: 200}
    """

    /// Feeds `n` feedback events: a healthy stream clicks about as often as the log (1 in 150); the
    /// adversarial one (a planted divergence: a click-fraud burst) clicks everything, then stops, so the
    /// online model, which learned the burst, predicts far worse than the static one.
    static func feed(_ s: DuetServerProcess, _ n: Int, adversarial: Bool) async throws {
        for i in 0..<n {
            let r = try await ServerHarness.recommend(s, user: "qa-online", candidates: ["\(i % 34)"], k: 1)
            let label = adversarial ? (i < n * 2 / 3 ? 1 : 0) : (i % 150 == 0 ? 1 : 0)
            _ = try await s.post("/v1/feedback", ["request_id": r["request_id"]!, "item": "\(i % 34)", "label": label])
        }
    }

    /// The online model's mean predicted click rate over the 34 OBD items for one user.
    static func meanPrediction(_ s: DuetServerProcess) async throws -> Double {
        let r = try await ServerHarness.recommend(s, user: "probe", candidates: (0..<34).map(String.init), k: 34)
        let scores = (r["items"] as? [[String: Any]] ?? []).compactMap { ($0["score"] as? NSNumber)?.doubleValue }
        return scores.reduce(0, +) / Double(max(1, scores.count))
    }

    @Test func theGuardrailRestoresAHealthyVersionAfterPoisoningButLeavesHonestTrafficAlone() async throws {
        let dir = try ServerHarness.dataDirectory(), config = try Self.configFile()
        let first = try await ServerHarness.start(dir, ["--config", config])
        _ = try ServerHarness.cli(first, ["experiment", "apply", try Self.write(Self.guarded + "\nforce: {probe: online}\n")])
        try await Self.feed(first, 400, adversarial: false)
        try await Task.sleep(for: .milliseconds(300))
        var audit = try ServerHarness.cli(first, ["audit"]).stdout
        #expect(!audit.contains("model.guardrail_rollback"), "healthy stream rolled back:\n\(audit)")
        func healthy(_ s: DuetServerProcess) async throws -> [String] {
            let slot = try await ServerHarness.admin(s, "GET", "/v1/admin/models/online").1
            return (slot["versions"] as? [[String: Any]] ?? []).filter { $0["healthy"] as? Bool == true }.compactMap { $0["id"] as? String }
        }
        let marked = try await healthy(first)
        #expect(!marked.isEmpty, "no version marked healthy after 400 honest events")
        let before = try await Self.meanPrediction(first)
        // The health marks survive a restart, with the versions they mark.
        #expect(first.stop() == 0)
        let s = try await ServerHarness.start(dir, ["--config", config])
        defer { s.stop() }
        #expect(try await healthy(s).sorted() == marked.sorted(), "health marks after a restart")
        #expect(s.log.contains("online health marks restored"))

        // Bot clicks on everything, then ordinary zeros: the model that learned the burst is now far off.
        try await Self.feed(s, 900, adversarial: true)
        let fired = try await ServerHarness.eventually(5) {
            audit = try ServerHarness.cli(s, ["audit"]).stdout
            return audit.contains("model.guardrail_rollback")
        }
        #expect(fired, "no guardrail rollback:\n\(audit)")
        #expect(audit.contains("guardrail:homepage"))
        let metrics = String(decoding: try await s.get("/metrics").1, as: UTF8.self)
        #expect(metrics.contains("duet_model_rollbacks_total{slot=\"online\",reason=\"guardrail\"}"))
        #expect(s.log.contains("guardrail rolled the online model back"))
        #expect(s.log.contains("healthy=true"), "the rollback did not reach a healthy version")
        let page = String(decoding: try await s.get("/").1, as: UTF8.self)
        #expect(page.contains("the guardrail (guardrail:homepage) rolled the online model back"))
        // Back to a version from before the burst: predictions within 1.5× of their pre-poison level.
        let after = try await Self.meanPrediction(s)
        #expect(after <= 1.5 * before, "mean prediction \(after) after the rollback vs \(before) before the poisoning")
    }

    /// A config that publishes often, so divergence shows in served versions quickly.
    static func configFile() throws -> String {
        let path = try TestSupport.temporaryDirectory("cfg").appendingPathComponent("duet.yaml").path
        try "publish_every: 20\npublish_interval_ms: 50\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
