import DuetServer
import DuetTestSupport
import Foundation
import Testing

/// Arms that explore, on the real server: the propensities `/v1/recommend` returns are the
/// frequencies it chooses with, and the live off-policy estimates in the report are the estimators
/// applied to exactly those propensities and the feedback.
@Suite(.serialized) struct ExplorationTests {
    static func apply(_ s: DuetServerProcess, _ yaml: String) throws {
        let path = try TestSupport.temporaryDirectory("exp").appendingPathComponent("homepage.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try ServerHarness.cli(s, ["experiment", "apply", path])
        try #require(r.status == 0, "\(r.stderr)")
    }

    static func items(_ r: [String: Any]) -> [(id: String, propensity: Double)] {
        (r["items"] as? [[String: Any]] ?? []).map { ($0["id"] as! String, ($0["propensity"] as! NSNumber).doubleValue) }
    }

    /// χ² goodness of fit of the first item's frequencies against the propensities the server gave
    /// (items never drawn are one "other" category with the remaining mass).
    static func fit(_ draws: [(id: String, propensity: Double)]) -> (p: Double, seen: Int) {
        var count: [String: Int] = [:], propensity: [String: Double] = [:]
        for d in draws {
            count[d.id, default: 0] += 1
            propensity[d.id] = d.propensity
        }
        let ids = count.keys.sorted()
        var observed = ids.map { count[$0]! }, weights = ids.map { propensity[$0]! }
        let rest = 1 - weights.reduce(0, +)
        if rest > 1e-9 { observed.append(0); weights.append(rest) }
        return (ExperimentStatistics.srmPValue(observed: observed, weights: weights), ids.count)
    }

    @Test func propensitiesMatchTheChoiceFrequencies() async throws {
        let s = try await ServerHarness.start(try ServerHarness.dataDirectory())
        defer { s.stop() }
        try Self.apply(s, """
        key: homepage
        arms:
          - {name: eps, model: static, explore: {policy: epsilon, epsilon: 0.4}}
          - {name: soft, model: static, explore: {policy: softmax, temperature: 0.002}}
        force: {chi-eps: eps, chi-soft: soft}
        """)
        let candidates = ["1", "2", "3", "4", "5", "6"]
        for user in ["chi-eps", "chi-soft"] {
            var draws: [(id: String, propensity: Double)] = []
            for _ in 0..<1500 {
                let r = try await ServerHarness.recommend(s, user: user, candidates: candidates, k: 1)
                #expect(r["arm"] as? String == String(user.dropFirst(4)))
                draws.append(Self.items(r)[0])
            }
            // The same user and items: every draw of an item reports the same propensity.
            for d in draws { #expect(abs(d.propensity - draws.first { $0.id == d.id }!.propensity) < 1e-6) }
            let (p, seen) = Self.fit(draws)
            #expect(seen >= 2, "\(user): only one item was ever chosen")
            #expect(p > 1e-4, "\(user): chosen frequencies do not match the returned propensities (χ² p = \(p))")
        }
        // Slates: distinct items, each with a propensity within (0, 1].
        for i in 0..<50 {
            let r = try await ServerHarness.recommend(s, user: "slate-\(i)", candidates: candidates + ["3", "1"], k: 4)
            let got = Self.items(r)
            #expect(got.count == 4 && Set(got.map(\.id)).count == 4)
            #expect(got.allSatisfy { $0.propensity > 0 && $0.propensity <= 1 })
        }
    }

    @Test func liveOffPolicyEstimatesAreTheEstimatorsOnTheServedPropensities() async throws {
        let s = try await ServerHarness.start(try ServerHarness.dataDirectory())
        defer { s.stop() }
        let epsilon = 0.5, n = 4.0
        try Self.apply(s, """
        key: homepage
        arms:
          - {name: greedy, model: static}
          - {name: explorer, model: static, explore: {policy: epsilon, epsilon: \(epsilon)}}
        """)
        // Both arms score with the static model: the greedy arm's choice is the item the explorer
        // shows with propensity 1 − ε + ε/n (any other has ε/n).
        var own: [(r: Double, w: Double)] = [], greedy: [(r: Double, w: Double)] = []
        var greedyArmRequests = 0
        for i in 0..<600 {
            let rec = try await ServerHarness.recommend(s, user: "ope-\(i)", candidates: ["1", "2", "3", "4"], k: 1)
            guard rec["arm"] as? String == "explorer" else { greedyArmRequests += 1; continue }
            let first = Self.items(rec)[0]
            let reward = (i * 7919) % 5 == 0 ? 1.0 : 0.0
            let (st, _) = try await s.post("/v1/feedback", ["request_id": rec["request_id"]!, "item": first.id, "label": reward])
            #expect(st == 200)
            let isGreedyChoice = first.propensity > epsilon / n + 1e-6
            #expect(abs(first.propensity - (isGreedyChoice ? 1 - epsilon + epsilon / n : epsilon / n)) < 1e-6)
            own.append((reward, 1))
            greedy.append((reward, isGreedyChoice ? 1 / first.propensity : 0))
        }
        #expect(own.count > 200 && greedyArmRequests > 200)
        let (status, report) = try await ServerHarness.admin(s, "GET", "/v1/admin/experiments/homepage/report")
        #expect(status == 200)
        let arms = report["arms"] as! [[String: Any]]
        let explorer = arms.first { $0["arm"] as? String == "explorer" }!
        #expect(explorer["explore"] as? String == "epsilon 0.5")
        #expect((arms.first { $0["arm"] as? String == "greedy" }!["policy_estimates"] as? [Any])?.isEmpty == true)
        let estimates = Dictionary(uniqueKeysWithValues: (explorer["policy_estimates"] as! [[String: Any]]).map { ($0["target"] as! String, $0) })
        func value(_ target: String, _ estimator: String) -> Double? {
            ((estimates[target]?[estimator] as? [String: Any])?["value"] as? NSNumber)?.doubleValue
        }
        func ips(_ e: [(r: Double, w: Double)]) -> Double { e.map { $0.r * $0.w }.reduce(0, +) / Double(e.count) }
        func snips(_ e: [(r: Double, w: Double)]) -> Double { e.map { $0.r * $0.w }.reduce(0, +) / e.map(\.w).reduce(0, +) }
        #expect(estimates["explorer"]?["events"] as? Int == own.count)
        #expect(estimates["greedy"]?["events"] as? Int == greedy.count)
        for (target, events) in [("explorer", own), ("greedy", greedy)] {
            let hand = (ips(events), snips(events))
            #expect(abs((value(target, "ips") ?? -1) - hand.0) < 1e-5, "\(target) IPS \(value(target, "ips") ?? -1) vs by hand \(hand.0)")
            #expect(abs((value(target, "snips") ?? -1) - hand.1) < 1e-5, "\(target) SNIPS \(value(target, "snips") ?? -1) vs by hand \(hand.1)")
            let dr = estimates[target]?["dr"] as? [String: Any]
            #expect((dr?["ci"] as? [Double])?.count == 2, "\(target) DR has no interval")
        }
        // The same numbers on /metrics, and the CLI prints them.
        let text = String(decoding: try await s.get("/metrics").1, as: UTF8.self)
        #expect(text.contains(#"duet_policy_value{experiment="homepage",arm="greedy",logged_by="explorer",estimator="snips"}"#), "\(text.split(separator: "\n").filter { $0.contains("policy_value") })")
        let cli = try ServerHarness.cli(s, ["experiment", "report", "homepage"])
        #expect(cli.stdout.contains("estimated from explorer's traffic"), "\(cli.stdout)")
    }
}
