@testable import DuetIngest
@testable import DuetModels
import DuetTestSupport
import Foundation
import Testing

/// `LogReader.readRounds`: every catalog item's row is the row `readHashed` yields when that item
/// is the logged one, bit for bit.
@Suite struct LoggedRoundTests {
    @Test(arguments: [false, true])
    func everyCandidateIsTheRowOfThatItem(crossed: Bool) throws {
        let hasher = FeatureHasher(bits: 20, interactions: crossed ? ReplayFixtures.interactions : [])
        let source = ReplayFixtures.path("data/obd/bts/men.csv")
        let lines = try String(contentsOfFile: source, encoding: .utf8).split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let itemColumn = try #require(header.firstIndex(of: "item_id"))
        let catalog = try LogReader.readItems(ReplayFixtures.path("data/obd/bts/item_context.csv")).keys.sorted()
        #expect(catalog.count == 34)
        // The first 30 rows, and each of them again with every catalog item as the logged one.
        let rows = Array(lines[1...30])
        var variants = [lines[0]]
        for row in rows {
            var fields = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            for id in catalog {
                fields[itemColumn] = id
                variants.append(fields.joined(separator: ","))
            }
        }
        let dir = try TestSupport.temporaryDirectory("rounds")
        try FileManager.default.copyItem(atPath: ReplayFixtures.path("data/obd/bts/item_context.csv"), toPath: dir.appendingPathComponent("item_context.csv").path)
        let original = dir.appendingPathComponent("log.csv"), expanded = dir.appendingPathComponent("variants.csv")
        try ([lines[0]] + rows).joined(separator: "\n").appending("\n").write(to: original, atomically: true, encoding: .utf8)
        try variants.joined(separator: "\n").appending("\n").write(to: expanded, atomically: true, encoding: .utf8)

        var rounds: [LoggedRound] = []
        try LogReader.readRounds(original.path, format: .obd, hasher: hasher) { rounds.append($0) }
        let logged = try ReplayFixtures.newRows(original.path, .obd, hasher)
        let expected = try ReplayFixtures.newRows(expanded.path, .obd, hasher)
        #expect(rounds.count == 30 && expected.count == 30 * catalog.count)
        for (r, round) in rounds.enumerated() {
            #expect(round.candidates.count == catalog.count && round.line == r + 2)
            let fields = rows[r].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            #expect(catalog[round.loggedItem] == fields[itemColumn])
            #expect(round.propensity == Double(fields[header.firstIndex(of: "propensity_score")!]))
            #expect(round.position == fields[header.firstIndex(of: "position")!] && round.click == logged[r].label)
            #expect(ReplayFixtures.Row(features: round.candidates[round.loggedItem], label: round.click, weight: 1) == logged[r])
            for j in catalog.indices {
                #expect(ReplayFixtures.Row(features: round.candidates[j], label: expected[r * catalog.count + j].label, weight: 1)
                    == expected[r * catalog.count + j], "row \(r), item \(catalog[j])")
            }
        }
    }

    @Test func roundsNeedPropensitiesAndCatalogItems() throws {
        let dir = try TestSupport.temporaryDirectory("rounds")
        try "item_id,item_feature_0\n1,0.5\n".write(to: dir.appendingPathComponent("item_context.csv"), atomically: true, encoding: .utf8)
        let hasher = FeatureHasher(bits: 10)
        let cases = [
            ("item_id,position,click\n1,1,0\n", "log.csv:1: no propensity_score column"),
            ("item_id,position,click,propensity_score\n1,1,0,x\n", "log.csv:2: propensity_score 'x' is not a number"),
            ("item_id,position,click,propensity_score\n7,1,0,0.5\n", "log.csv:2: item_id '7' is not in the catalog"),
        ]
        for (text, message) in cases {
            let log = dir.appendingPathComponent("log.csv")
            try text.write(to: log, atomically: true, encoding: .utf8)
            #expect {
                try LogReader.readRounds(log.path, format: .obd, hasher: hasher) { _ in }
            } throws: { error in
                (error as? LogError)?.message.contains(message) ?? false
            }
        }
    }

    /// A jsonl logged choice: each candidate's row is the row of a plain line whose features are the
    /// context's and the candidate's, bit for bit (with and without interactions).
    @Test(arguments: [false, true])
    func aJSONLCandidateIsThePlainLineOfItsFeatures(crossed: Bool) throws {
        let hasher = FeatureHasher(bits: 18, interactions: crossed ? [("segment", "item_id"), ("age", "price")] : [])
        let dir = try TestSupport.temporaryDirectory()
        let choices = dir.appendingPathComponent("choices.jsonl"), plain = dir.appendingPathComponent("plain.jsonl")
        let candidates = [#"{"item_id": "d0", "price": 2.5}"#, #"{"item_id": "d1", "genre": "é"}"#, #"{"item_id": "d2", "price": -1, "zeta": true}"#]
        let context = #""segment": "s2", "age": 0.25"#
        try #"{"label": 1, "features": {\#(context)}, "candidates": [\#(candidates.joined(separator: ", "))], "chosen": 2, "propensity": 0.2}"#
            .appending("\n").write(to: choices, atomically: true, encoding: .utf8)
        try candidates.map { c in #"{"features": {\#(context), \#(c.dropFirst().dropLast())}, "label": 1}"# }.joined(separator: "\n")
            .appending("\n").write(to: plain, atomically: true, encoding: .utf8)
        var rows: [[Feature]] = []
        try LogReader.readHashed(plain.path, format: .jsonl, hasher: hasher) { f, _, _ in rows.append(f) }
        var rounds: [LoggedRound] = []
        try LogReader.readRounds(choices.path, format: .jsonl, hasher: hasher) { rounds.append($0) }
        let round = try #require(rounds.first)
        #expect(rounds.count == 1 && round.loggedItem == 2 && round.propensity == 0.2 && round.click == 1 && round.position == nil)
        #expect(round.candidates.count == 3)
        for (a, b) in zip(round.candidates, rows) {
            #expect(a.map(\.index) == b.map(\.index) && a.map(\.value) == b.map(\.value))
        }
        // Read as a training log, the line is its chosen candidate's row.
        var trained: [[Feature]] = []
        try LogReader.readHashed(choices.path, format: .jsonl, hasher: hasher) { f, _, _ in trained.append(f) }
        #expect(trained.count == 1 && trained[0].map(\.index) == rows[2].map(\.index))
        // A name in both the context and a candidate is refused, naming both.
        try #"{"features": {"item_id": "x"}, "candidates": [{"item_id": "d0"}], "chosen": 0, "propensity": 1, "label": 0}"#
            .appending("\n").write(to: choices, atomically: true, encoding: .utf8)
        #expect(throws: LogError.self) { try LogReader.readRounds(choices.path, format: .jsonl, hasher: hasher) { _ in } }
        do { try LogReader.readRounds(choices.path, format: .jsonl, hasher: hasher) { _ in } } catch {
            #expect("\(error)".contains("choices.jsonl:1: candidates[0].item_id: also in features"))
        }
    }
}
