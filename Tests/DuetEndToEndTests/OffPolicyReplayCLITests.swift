import DuetTestSupport
import Foundation
import Testing

/// `duet replay --policy` and `--no-learn`, run as a real process.
@Suite struct OffPolicyReplayCLITests {
    /// A 3-item catalog and 6 logged rounds with known propensities.
    static let rounds: [(item: Int, position: Int, click: Int, propensity: Double)] = [
        (0, 1, 1, 0.5), (1, 2, 0, 0.25), (2, 3, 1, 0.2), (0, 1, 0, 0.4), (1, 2, 1, 0.1), (2, 3, 0, 0.5),
    ]

    static func writeHandMadeLog(_ dir: URL) throws -> URL {
        try """
            ,item_id,item_feature_0,item_feature_1
            0,0,0.5,a
            1,1,-0.2,b
            2,2,1.5,a

            """.write(to: dir.appendingPathComponent("item_context.csv"), atomically: true, encoding: .utf8)
        var lines = [",timestamp,item_id,position,click,propensity_score,user_feature_0,user-item_affinity_0,user-item_affinity_1,user-item_affinity_2"]
        for (i, r) in rounds.enumerated() {
            lines.append("\(i),2019-11-24 00:00:0\(i)+00:00,\(r.item),\(r.position),\(r.click),\(r.propensity),u\(i % 2),0.0,\(Double(i) / 10),0.0")
        }
        let log = dir.appendingPathComponent("log.csv")
        try (lines.joined(separator: "\n") + "\n").write(to: log, atomically: true, encoding: .utf8)
        return log
    }

    static func replay(_ arguments: [String]) throws -> [String: Any] {
        let r = try TestSupport.run(["replay"] + arguments)
        #expect(r.status == 0, "\(arguments): \(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data((r.stdoutLines.last ?? "").utf8)) as? [String: Any])
    }

    static func value(_ out: [String: Any], _ estimator: String) throws -> (value: Double, ci: [Double]) {
        let estimates = try #require(out["policy_value"] as? [String: Any])
        let e = try #require(estimates[estimator] as? [String: Any])
        return (try #require(e["value"] as? Double), try #require(e["ci"] as? [Double]))
    }

    @Test func ipsAndSNIPSOfUniformEqualTheHandComputation() throws {
        let dir = try TestSupport.temporaryDirectory()
        let log = try Self.writeHandMadeLog(dir)
        let out = try Self.replay([log.path, "--format", "obd", "--policy", "uniform"])
        // Uniform over 3 items: π = 1/3 for every logged item, w = (1/3)/p.
        let w = Self.rounds.map { (1.0 / 3) / $0.propensity }, r = Self.rounds.map { Double($0.click) }
        let terms = zip(w, r).map(*), n = Double(terms.count)
        let ips = terms.reduce(0, +) / n
        let snips = terms.reduce(0, +) / w.reduce(0, +)
        #expect(abs(ips - 17.0 / 18) < 1e-12 && abs(snips - 2.0 / 3) < 1e-12)  // 5.667/6 and 5.667/8.5
        let sd = (terms.map { ($0 - ips) * ($0 - ips) }.reduce(0, +) / (n - 1)).squareRoot()
        let got = try Self.value(out, "ips")
        #expect(abs(got.value - ips) < 1e-12)
        #expect(abs(got.ci[0] - (ips - 1.959963984540054 * sd / n.squareRoot())) < 1e-9)
        let gotSNIPS = try Self.value(out, "snips")
        #expect(abs(gotSNIPS.value - snips) < 1e-12)
        _ = try Self.value(out, "dr")
        let logged = try #require(out["logged_policy_value"] as? [String: Any])
        #expect(abs((logged["value"] as? Double ?? 0) - 0.5) < 1e-12)
        #expect(out["examples"] as? Int == 6 && out["policy"] as? String == "uniform")
        // ε = 1 is uniform.
        let epsilon = try Self.replay([log.path, "--format", "obd", "--policy", "epsilon:1"])
        let epsilonIPS = try Self.value(epsilon, "ips"), epsilonSNIPS = try Self.value(epsilon, "snips"), snipsValue = try Self.value(out, "snips")
        #expect(epsilonIPS.value == got.value && epsilonSNIPS.value == snipsValue.value)
    }

    /// The same rounds as logged choices in jsonl (the candidates: the 3 items): the same hand
    /// computation; training on the log reads each line's chosen candidate.
    @Test func ipsAndSNIPSOnAJSONLLogOfChoicesEqualTheHandComputation() throws {
        let dir = try TestSupport.temporaryDirectory()
        let log = dir.appendingPathComponent("choices.jsonl")
        var lines = ""
        for (i, r) in Self.rounds.enumerated() {
            lines += #"{"features": {"user": "u\#(i % 2)", "position": "\#(r.position)"}, "candidates": [{"item_id": "0"}, {"item_id": "1"}, {"item_id": "2", "extra": 1.5}], "chosen": \#(r.item), "propensity": \#(r.propensity), "label": \#(r.click)}"#
            lines += "\n"
        }
        try lines.write(to: log, atomically: true, encoding: .utf8)
        let out = try Self.replay([log.path, "--format", "jsonl", "--policy", "uniform"])
        let w = Self.rounds.map { (1.0 / 3) / $0.propensity }, r = Self.rounds.map { Double($0.click) }
        let terms = zip(w, r).map(*)
        #expect(abs(try Self.value(out, "ips").value - terms.reduce(0, +) / 6) < 1e-12)
        #expect(abs(try Self.value(out, "snips").value - terms.reduce(0, +) / w.reduce(0, +)) < 1e-12)
        #expect(out["examples"] as? Int == 6 && out["clicks"] as? Int == 3)
        // The chosen candidates are what a replay without --policy learns, and what train reads.
        let plain = try Self.replay([log.path, "--format", "jsonl"])
        #expect(plain["examples"] as? Int == 6 && plain["logloss"] as? Double == out["logloss"] as? Double)
        let trained = try TestSupport.run(["train", log.path, "--format", "jsonl", "--out", dir.appendingPathComponent("m.duet").path])
        #expect(trained.status == 0, "\(trained.stderr)")
        let greedy = try Self.replay([log.path, "--format", "jsonl", "--model", dir.appendingPathComponent("m.duet").path, "--no-learn", "--policy", "greedy"])
        let dr = try Self.value(greedy, "dr")
        #expect(dr.value.isFinite && dr.ci[0] <= dr.value && dr.value <= dr.ci[1])
    }

    /// `data/obd/random` was logged uniformly at random over its 34 items (propensity 1/34), so
    /// the uniform policy's IPS estimate is the logged click rate, inside its own interval.
    @Test func uniformOnTheRandomLogIsTheLoggedClickRate() throws {
        let out = try Self.replay(["data/obd/random/men.csv", "--format", "obd", "--policy", "uniform"])
        let logged = try #require(out["logged_policy_value"] as? [String: Any])
        let ctr = try #require(logged["value"] as? Double)
        #expect(abs(ctr - 46.0 / 10_000) < 1e-12)
        for estimator in ["ips", "snips"] {
            let e = try Self.value(out, estimator)
            #expect(abs(e.value - ctr) < 1e-9, "\(estimator): \(e.value)")
            #expect(e.ci[0] < ctr && ctr < e.ci[1])
        }
        let dr = try Self.value(out, "dr")
        #expect(dr.ci[0] < ctr && ctr < dr.ci[1], "DR \(dr)")
        // The replay's own results are unchanged by --policy.
        #expect(out["examples"] as? Int == 10_000 && out["clicks"] as? Int == 46)
        #expect(abs((out["logloss"] as? Double ?? 0) - 0.030047) < 1e-6)
    }

    /// `--no-learn` predicts every row with the model as loaded: the log twice over has exactly the
    /// log loss (and policy value) of the log once; learning, the second pass is predicted better.
    @Test func noLearnLeavesThePredictionsUnchanged() throws {
        let dir = try TestSupport.temporaryDirectory()
        let model = dir.appendingPathComponent("bts.duet")
        let trained = try TestSupport.run(["train", "data/obd/bts/men.csv", "--format", "obd", "--out", model.path])
        #expect(trained.status == 0, "\(trained.stderr)")
        let rows = try String(contentsOfFile: TestSupport.packageRoot.appendingPathComponent("data/obd/random/men.csv").path, encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let once = dir.appendingPathComponent("once.csv"), twice = dir.appendingPathComponent("twice.csv")
        let body = rows[1...1500]
        try ([rows[0]] + body).joined(separator: "\n").appending("\n").write(to: once, atomically: true, encoding: .utf8)
        try ([rows[0]] + body + body).joined(separator: "\n").appending("\n").write(to: twice, atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(
            at: TestSupport.packageRoot.appendingPathComponent("data/obd/random/item_context.csv"), to: dir.appendingPathComponent("item_context.csv"))
        let frozen = ["--format", "obd", "--model", model.path, "--no-learn", "--policy", "greedy"]
        let a = try Self.replay([once.path] + frozen), b = try Self.replay([twice.path] + frozen)
        let lossA = try #require(a["logloss"] as? Double), lossB = try #require(b["logloss"] as? Double)
        #expect(abs(lossA - lossB) < 1e-12 && a["examples"] as? Int == 1500 && b["examples"] as? Int == 3000)
        for estimator in ["ips", "snips", "dr"] {
            let once = try Self.value(a, estimator), twice = try Self.value(b, estimator)
            #expect(abs(once.value - twice.value) < 1e-12, "\(estimator)")
        }
        let learnA = try Self.replay([once.path, "--format", "obd", "--model", model.path])
        let learnB = try Self.replay([twice.path, "--format", "obd", "--model", model.path])
        #expect(abs((learnA["logloss"] as? Double ?? 0) - (learnB["logloss"] as? Double ?? 0)) > 1e-6)
        #expect(abs((learnA["logloss"] as? Double ?? 0) - lossA) > 1e-9)
    }

    @Test func policyErrorsNameTheFlag() throws {
        let dir = try TestSupport.temporaryDirectory()
        let jsonl = dir.appendingPathComponent("log.jsonl")
        try "{\"features\": {\"a\": \"x\"}, \"label\": 1}\n".write(to: jsonl, atomically: true, encoding: .utf8)
        let badChoice = dir.appendingPathComponent("choice.jsonl")
        try #"{"features": {"a": "x"}, "candidates": [{"i": "0"}], "chosen": 0, "propensity": 0, "label": 1}"#.appending("\n")
            .write(to: badChoice, atomically: true, encoding: .utf8)
        let noPropensity = dir.appendingPathComponent("nop.csv")
        try "item_id,position,click\n1,1,0\n".write(to: noPropensity, atomically: true, encoding: .utf8)
        try "item_id\n1\n".write(to: dir.appendingPathComponent("item_context.csv"), atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            // A plain jsonl line has no logged choice to evaluate.
            ([jsonl.path, "--format", "jsonl", "--policy", "uniform"], "log.jsonl:1: candidates"),
            ([badChoice.path, "--format", "jsonl", "--policy", "greedy"], "choice.jsonl:1: propensity"),
            ([badChoice.path, "--format", "jsonl"], "choice.jsonl:1: propensity"),
            (["data/obd/random/men.csv", "--format", "obd", "--policy", "epsilon:2"], "--policy"),
            (["data/obd/random/men.csv", "--format", "obd", "--policy", "thompson"], "--policy"),
            (["data/obd/random/men.csv", "--format", "obd", "--no-learn"], "--no-learn"),
            ([noPropensity.path, "--format", "obd", "--policy", "uniform"], "propensity_score"),
        ]
        for (arguments, named) in cases {
            let r = try TestSupport.run(["replay"] + arguments)
            #expect(r.status != 0, "\(arguments)")
            #expect(r.stderr.contains(named) && r.stderrLines.count == 1, "\(arguments): \(r.stderr)")
        }
    }
}
