import DuetTestSupport
import Foundation
import Testing

/// `duet replay` and `duet train` over logs, run as a real process.
@Suite struct ReplayTrainCLITests {
    @Test func replayPrintsOneJSONLineOfResults() throws {
        let r = try TestSupport.run(["replay", "data/obd/random/men.csv", "--format", "obd"])
        #expect(r.status == 0)
        let out = try #require(try JSONSerialization.jsonObject(with: Data(r.stdoutLines.last!.utf8)) as? [String: Any])
        #expect(out["examples"] as? Int == 10_000 && out["clicks"] as? Int == 46 && out["rejected"] as? Int == 0)
        // The progressive log loss of BENCHMARKS.md (feature order moves only the last digits).
        #expect(abs((out["logloss"] as? Double ?? 0) - 0.030047) < 1e-6)
    }

    @Test func badLinesFailWithFileAndLine() throws {
        let dir = try TestSupport.temporaryDirectory()
        let log = dir.appendingPathComponent("bad.jsonl")
        try "{\"features\": {\"a\": \"x\"}, \"label\": 1}\n{\"features\": {\"a\": null}, \"label\": 1}\n".write(to: log, atomically: true, encoding: .utf8)
        for command in ["replay", "train"] {
            let r = try TestSupport.run([command, log.path, "--format", "jsonl"] + (command == "train" ? ["--out", dir.appendingPathComponent("m.duet").path] : []))
            #expect(r.status != 0)
            #expect(r.stderr.contains("\(log.path):2: features.a: expected a string or a number"))
        }
    }

    @Test func trainWritesAModelFromJSONL() throws {
        let dir = try TestSupport.temporaryDirectory()
        let log = dir.appendingPathComponent("log.jsonl")
        let lines = (0..<500).map { i in "{\"features\": {\"user_id\": \"u\(i % 7)\", \"age\": \(Double(i % 10) / 10)}, \"label\": \(i % 3 == 0 ? 1 : 0)}" }
        try lines.joined(separator: "\n").write(to: log, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("m.duet")
        let r = try TestSupport.run(["train", log.path, "--format", "jsonl", "--out", out.path])
        #expect(r.status == 0)
        #expect(r.stdout.contains("trained m on 500 examples"))
        #expect(FileManager.default.fileExists(atPath: out.path))
    }

    @Test func badModelFlagsFailNamingTheFlag() throws {
        for (flag, value) in [("--factor-learning-rate", "0"), ("--factor-init", "2"), ("--learning-rate", "nan"), ("--k", "99"), ("--interactions", "a")] {
            let r = try TestSupport.run(["replay", "data/obd/random/men.csv", "--format", "obd", flag, value])
            #expect(r.status != 0, "\(flag) \(value)")
            #expect(r.stderr.contains(flag), "\(flag): \(r.stderr)")
        }
    }
}
