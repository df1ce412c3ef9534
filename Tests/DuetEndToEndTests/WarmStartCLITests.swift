import DuetTestSupport
import Foundation
import Testing

/// The learner never starts worse than its parent: `duet train` saves the optimizer state with the
/// model, and a learner warm-started from the file (`duet replay --model`) continues with the step
/// sizes training reached. Measured on the real OBD logs against the frozen parent
/// (`--no-learn`) and the same file with the state thrown away (`--fresh-optimizer-state`, which is
/// how every warm start worked before).
@Suite struct WarmStartCLITests {
    /// Progressive log loss of `duet replay LOG --format obd --model MODEL` plus `flags`.
    static func logloss(_ log: String, model: String, items: String, _ flags: [String] = []) throws -> Double {
        let r = try TestSupport.run(["replay", log, "--format", "obd", "--items", items, "--model", model] + flags)
        #expect(r.status == 0, "\(r.stderr)")
        let out = try #require(try JSONSerialization.jsonObject(with: Data((r.stdoutLines.last ?? "").utf8)) as? [String: Any])
        return try #require(out["logloss"] as? Double)
    }

    /// The first `rows` rows of an OBD log (with its header) as a new file in `dir`.
    static func head(_ log: String, rows: Int, skipping: Int = 0, in dir: URL, name: String) throws -> String {
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: true)
        let path = dir.appendingPathComponent(name).path
        let text = ([lines[0]] + lines.dropFirst(1 + skipping).prefix(rows)).joined(separator: "\n") + "\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func path(_ p: String) -> String { TestSupport.packageRoot.appendingPathComponent(p).path }

    /// A model trained on the uniform-random policy's log, then put online where the Thompson-sampling
    /// policy serves (data/obd/bts: other items shown, at other rates). With its state, the learner
    /// beats the frozen parent and the stateless warm start, on the first 1,000 events and on all 10,000.
    @Test func warmStartWithStateIsNoWorseThanItsParentAndBeatsAStatelessOne() throws {
        let dir = try TestSupport.temporaryDirectory("warm-start")
        let parent = dir.appendingPathComponent("parent.duet").path
        let train = try TestSupport.run(["train", Self.path("data/obd/random/men.csv"), "--format", "obd", "--out", parent])
        #expect(train.status == 0, "\(train.stderr)")
        let items = Self.path("data/obd/bts/item_context.csv")
        let first1000 = try Self.head(Self.path("data/obd/bts/men.csv"), rows: 1_000, in: dir, name: "bts-1000.csv")
        for log in [first1000, Self.path("data/obd/bts/men.csv")] {
            let frozen = try Self.logloss(log, model: parent, items: items, ["--no-learn"])
            let withState = try Self.logloss(log, model: parent, items: items)
            let stateless = try Self.logloss(log, model: parent, items: items, ["--fresh-optimizer-state"])
            #expect(withState <= frozen, "\(log): with state \(withState), frozen parent \(frozen)")
            #expect(withState < stateless, "\(log): with state \(withState), without \(stateless)")
        }
    }

    /// Where there is nothing new to learn (the second half of the same log), every update costs a
    /// little against the frozen parent; with the state the cost stays within 1% on the first 1,000
    /// events and is smaller than the stateless warm start's, whose first steps are large.
    @Test(arguments: ["random", "bts"])
    func onTheSameStreamTheStateKeepsTheFirstStepsSmall(_ policy: String) throws {
        let dir = try TestSupport.temporaryDirectory("warm-start-\(policy)")
        let log = Self.path("data/obd/\(policy)/men.csv"), items = Self.path("data/obd/\(policy)/item_context.csv")
        let firstHalf = try Self.head(log, rows: 5_000, in: dir, name: "first.csv")
        let next1000 = try Self.head(log, rows: 1_000, skipping: 5_000, in: dir, name: "next.csv")
        let parent = dir.appendingPathComponent("parent.duet").path
        #expect(try TestSupport.run(["train", firstHalf, "--format", "obd", "--items", items, "--out", parent]).status == 0)
        let frozen = try Self.logloss(next1000, model: parent, items: items, ["--no-learn"])
        let withState = try Self.logloss(next1000, model: parent, items: items)
        let stateless = try Self.logloss(next1000, model: parent, items: items, ["--fresh-optimizer-state"])
        #expect(withState <= frozen * 1.01, "with state \(withState), frozen parent \(frozen)")
        #expect(withState - frozen < stateless - frozen, "with state \(withState), without \(stateless), frozen \(frozen)")
    }

    @Test func freshOptimizerStateNeedsAModel() throws {
        let r = try TestSupport.run(["replay", Self.path("data/obd/random/men.csv"), "--format", "obd", "--fresh-optimizer-state"])
        #expect(r.status != 0 && r.stderr.contains("--fresh-optimizer-state: needs --model"))
    }
}
