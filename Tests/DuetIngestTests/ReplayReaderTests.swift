@testable import DuetIngest
import DuetJSON
@testable import DuetModels
import DuetTestSupport
import Foundation
import Testing

/// The byte-level readers of `duet train`/`duet replay` (`LogReader.readHashed`) against the path
/// serving shares: `LogReader.read` → `FeatureNaming` → `FeatureHasher.hash`.
enum ReplayFixtures {
    static func path(_ p: String) -> String { TestSupport.packageRoot.appendingPathComponent(p).path }

    static let interactions = [
        ("user_feature_0", "item_id"), ("item_id", "position"), ("affinity", "item_feature_0"),
        ("item_feature_1", "user_feature_3"), ("genre", "user_id"), ("ü", "age"), ("age", "age"),
    ]

    struct Row: Equatable {
        var features: [Feature]
        var label: Double
        var weight: Double

        /// Bit for bit (a crossed 1e308 × 0 is NaN on both paths).
        static func == (a: Row, b: Row) -> Bool {
            a.label == b.label && a.weight == b.weight && a.features.count == b.features.count
                && zip(a.features, b.features).allSatisfy { $0.index == $1.index && $0.fieldHash == $1.fieldHash && $0.value.bitPattern == $1.value.bitPattern }
        }
    }

    static func oldRows(_ path: String, _ format: LogReader.Format, _ hasher: FeatureHasher) throws -> [Row] {
        var rows: [Row] = []
        try ReferenceLogReader.read(path, format: format) { ex in rows.append(Row(features: hasher.hash(ex.features), label: ex.label, weight: ex.weight)) }
        return rows
    }

    static func newRows(_ path: String, _ format: LogReader.Format, _ hasher: FeatureHasher) throws -> [Row] {
        var rows: [Row] = []
        try LogReader.readHashed(path, format: format, hasher: hasher) { f, label, weight in rows.append(Row(features: f, label: label, weight: weight)) }
        return rows
    }

    /// Order-free and exact: value compared bit for bit.
    static func canonical(_ f: [Feature]) -> [[UInt32]] {
        f.map { [$0.index, $0.fieldHash, $0.value.bitPattern] }.sorted { $0.lexicographicallyPrecedes($1) }
    }

    static func write(_ lines: [String], _ name: String = "log.jsonl") throws -> String {
        let dir = try TestSupport.temporaryDirectory("replay")
        let url = dir.appendingPathComponent(name)
        try Data(lines.joined(separator: "\n").utf8 + [10]).write(to: url)
        return url.path
    }

    /// Lines that exercise the JSON reader: escapes, unicode, numbers, skipped keys, duplicates.
    static let jsonl: [String] = [
        #"{"features": {"user_id": "191", "item_id": "73", "genre": "Comedy", "age": 0.085}, "label": 1}"#,
        #"{"label": 0, "features": {"age": 1e-3, "b": -0, "c": -0.0, "d": 12, "e": -7, "f": 1E+2, "g": 123456789012345678, "h": 0.30000000000000004}}"#,
        #"{"features": {"genre": "Sci\"Fi\\/\b\f\n\r\t", "user_id": "\u00e9\u4e2d\ud83d\ude00", "item_id": "é中😀"}, "label": 1, "weight": 2.5}"#,
        #"  {"features" : { "ü" : "x y" , "age":0.5 } ,"label":0 , "extra": {"nested": [1, {"a": null}, "s", true, false, -1.5e-7]}}  "#,
        #"{"features": {"user_id": "1", "user_id": "2", "genre": null, "genre": "Drama"}, "label": 1}"#,
        #"{"features": {"a": true, "b": false, "c": "", "": "empty name"}, "label": true}"#,
        #"{"features": {"x": 1}, "label": 1, "features": {"user_id": "last features wins", "item_id": "9"}}"#,
        #"{"features": {"trailing": "comma",}, "label": 0, "skip": [1, 2,],}"#,
        "\u{FEFF}{\"features\": {\"bom\": 1}, \"label\": 0}",
        #"{"features": {"\u0066ield": "esc\u0061ped name", "e\u0301": 1, "é": 2, "\u212A": "kelvin", "K": "k"}, "label": 0, "we\u0069ght": 3}"#,
        #"{"features": {}, "label": 0, "weight": null}"#,
        #"{"features": {"z": 1, "a": 2, "m": "3", "Z": 4, "aa": 5, "a\u0000": "nul"}, "label": 1}"#,
        #"{"features": {"age": 0.1, "user_id": "u", "genre": "g", "ü": "ü"}, "label": 0.5, "weight": 1e0}"#,
    ]
}

@Suite struct ReplayReaderParityTests {
    @Test(arguments: ["data/obd/random/men.csv", "data/obd/bts/men.csv"], [false, true])
    func obdRowsHashTheSameFeatures(log: String, crossed: Bool) throws {
        let hasher = FeatureHasher(bits: 20, interactions: crossed ? ReplayFixtures.interactions : [])
        let old = try ReplayFixtures.oldRows(ReplayFixtures.path(log), .obd, hasher)
        let new = try ReplayFixtures.newRows(ReplayFixtures.path(log), .obd, hasher)
        #expect(old.count == 10_000 && new.count == old.count)
        var mismatches = 0
        for (o, n) in zip(old, new) where o.label != n.label || o.weight != n.weight
            || ReplayFixtures.canonical(o.features) != ReplayFixtures.canonical(n.features) {
            mismatches += 1
        }
        #expect(mismatches == 0)
        // Each base feature appears once: the fast path's order is one the naming layer's dictionaries can give.
        #expect(new[0].features.count == old[0].features.count)
    }

    @Test func obdOrderIsFixed() throws {
        // user_feature_0…3, position, item_id, item_feature_0…3 by name, affinity.
        let hasher = FeatureHasher(bits: 20)
        let new = try ReplayFixtures.newRows(ReplayFixtures.path("data/obd/random/men.csv"), .obd, hasher)
        let header = try String(contentsOfFile: ReplayFixtures.path("data/obd/random/men.csv"), encoding: .utf8)
            .split(separator: "\n")[0...1].map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let row = Dictionary(uniqueKeysWithValues: zip(header[0], header[1]))
        let items = try LogReader.readItems(ReplayFixtures.path("data/obd/random/item_context.csv"))
        let item = items[row["item_id"]!]!
        let named = (0..<4).map { NamedFeature("user_feature_\($0)", .string(row["user_feature_\($0)"]!)) }
            + [NamedFeature("position", .string(row["position"]!)), NamedFeature("item_id", .string(row["item_id"]!))]
            + item.keys.sorted().map { NamedFeature($0, item[$0]!) }
            + [NamedFeature("affinity", .number(Double(row[FeatureNaming.affinityPrefix + row["item_id"]!]!)!))]
        #expect(new[0].features == hasher.hash(named))
    }

    @Test(arguments: [false, true])
    func jsonlLinesHashTheSameFeaturesInTheSameOrder(crossed: Bool) throws {
        let hasher = FeatureHasher(bits: 18, interactions: crossed ? ReplayFixtures.interactions : [])
        let path = try ReplayFixtures.write(ReplayFixtures.jsonl)
        let old = try ReplayFixtures.oldRows(path, .jsonl, hasher)
        let new = try ReplayFixtures.newRows(path, .jsonl, hasher)
        #expect(old.count == ReplayFixtures.jsonl.count)
        #expect(new.count == old.count)
        for (k, (o, n)) in zip(old, new).enumerated() {
            #expect(o == n, "line \(k + 1)")
        }
    }

    @Test func randomJSONLinesHashTheSame() throws {
        // Seeded fuzz: random names (ASCII, unicode, escapes), strings and numbers in many spellings.
        var rng = SplitMix64(seed: 42)
        func pick<T>(_ a: [T]) -> T { a[Int(rng.next() % UInt64(a.count))] }
        let names = ["user_id", "item_id", "genre", "age", "ü", "名前", "a\\\"b", "tab\\t", "\\u00fc", "x_1", "X", "e\\u0301"]
        let strings = ["", "Comedy", "Ünïcødé", "\\ud83d\\ude00", "line\\nbreak", "q\\\"uote", "\\/slash", "日本", "0"]
        let numbers = ["0", "-0", "0.0", "-0.0", "1", "-17", "3.25", "1e-3", "-2.5E+3", "0.000123", "123456789", "9007199254740993",
                       "0.1", "1e22", "1e-22", "4.9e-324", "1.7976931348623157e308", "12345678901234567890", "0.085", "true", "false"]
        var lines: [String] = []
        for _ in 0..<2000 {
            var members: [String] = []
            for _ in 0..<(1 + rng.next() % 7) {
                let value = rng.next() % 2 == 0 ? "\"\(pick(strings))\"" : pick(numbers)
                members.append("\"\(pick(names))\": \(value)")
            }
            let label = pick(["0", "1", "true", "0.0"])
            let weight = rng.next() % 4 == 0 ? ", \"weight\": \(pick(["0.5", "2", "1e0"]))" : ""
            lines.append("{\"features\": {\(members.joined(separator: ", "))}, \"label\": \(label)\(weight)}")
        }
        let path = try ReplayFixtures.write(lines)
        for hasher in [FeatureHasher(bits: 20), FeatureHasher(bits: 20, interactions: ReplayFixtures.interactions)] {
            let old = try ReplayFixtures.oldRows(path, .jsonl, hasher)
            let new = try ReplayFixtures.newRows(path, .jsonl, hasher)
            #expect(old.count == 2000 && new.count == old.count)
            for (k, (o, n)) in zip(old, new).enumerated() where o != n {
                Issue.record("line \(k + 1): \(lines[k])\nold \(o)\nnew \(n)")
                break
            }
        }
    }

    @Test func featureOrderChangesLearningOnlyByRounding() throws {
        // The naming layer's order follows per-row dictionaries, so the old path already learned in
        // varying orders; the fast path uses one fixed order. Any order gives the same model up to
        // float rounding: a shuffled replay ends at the same progressive log loss to ~1e-7.
        let rows = try ReplayFixtures.newRows(ReplayFixtures.path("data/obd/random/men.csv"), .obd, ModelConfig().hasher)
        var fixed = Learner(), shuffled = Learner()
        var rng = SplitMix64(seed: 7)
        var maxGap = 0.0
        for r in rows {
            var f = r.features
            for i in stride(from: f.count - 1, to: 0, by: -1) { f.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            let a = try fixed.learn(r.features, label: r.label).get(), b = try shuffled.learn(f, label: r.label).get()
            maxGap = max(maxGap, abs(a - b))
        }
        let l1 = try #require(fixed.metrics.logloss), l2 = try #require(shuffled.metrics.logloss)
        #expect(abs(l1 - l2) / l1 < 1e-6)
        #expect(maxGap < 1e-5)
    }

    @Test func streamingMurmurEqualsWholeMurmur() {
        var rng = SplitMix64(seed: 1)
        for n in 0..<80 {
            let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let split = n == 0 ? 0 : Int(rng.next() % UInt64(n + 1))
            var m = Murmur3Stream()
            bytes[..<split].withUnsafeBytes { m.add($0) }
            if split < n { m.add(bytes[split]) }
            if split + 1 < n { bytes[(split + 1)...].withUnsafeBytes { m.add($0) } }
            #expect(m.finish() == FeatureHasher.murmur3(bytes))
        }
    }

    @Test func byteNumbersEqualDoubleOfString() {
        var texts = ["0", "-0", "0.0", "00012", "1.5", "-1.5e-7", "1e22", "1e23", "1e-22", "9007199254740993", "9007199254740992.5",
                     "0.029411764705882353", "1.", ".5", "+1", "1e", "-", "", "nan", "inf", "0x10", "1e400", "1e-400", "12a", " 1",
                     "1234567890123456789", "12345678901234567890", "3.141592653589793", "2.2250738585072011e-308", "1E+2"]
        var rng = SplitMix64(seed: 3)
        for _ in 0..<5000 {
            let digits = String(rng.next() % 100_000_000_000_000)
            let cut = Int(rng.next() % UInt64(digits.count + 1))
            var t = String(digits.prefix(cut)) + (cut < digits.count ? "." + digits.dropFirst(cut) : "")
            if t.hasPrefix(".") { t = "0" + t }
            if rng.next() % 3 == 0 { t += "e\(Int(rng.next() % 50) - 25)" }
            if rng.next() % 2 == 0 { t = "-" + t }
            texts.append(t)
        }
        for t in texts {
            let fast = Array(t.utf8).withUnsafeBytes { ByteNumber.double($0) }
            #expect(fast?.bitPattern == Double(t)?.bitPattern, "\(t)")
        }
    }
}

@Suite struct ReplayReaderErrorTests {
    static let good = #"{"features": {"a": "x"}, "label": 1}"#

    /// Each bad line, as line 2 of a log: the message of the old reader, or the one given here.
    static let badLines: [(line: String, message: String)] = [
        (#"{"features": {"a": "x"}, "label": "1"}"#, "label: missing or not a number"),
        (#"{"features": {"a": "x"}, "label": null}"#, "label: missing or not a number"),
        (#"{"features": {"a": "x"}}"#, "label: missing or not a number"),
        (#"{"features": {"a": "x"}, "label": 1, "weight": "2"}"#, "weight: not a number"),
        (#"{"features": {"a": "x"}, "label": 1, "weight": {"w": 2}}"#, "weight: not a number"),
        (#"{"features": ["a", "x"], "label": 1}"#, "features: missing or not an object"),
        (#"{"features": "a=x", "label": 1}"#, "features: missing or not an object"),
        (#"{"label": 1}"#, "features: missing or not an object"),
        (#"{"features": {"b": 1, "a": null}, "label": 1}"#, "features.a: expected a string or a number"),
        (#"{"features": {"a": 1, "b": {"c": 1}}, "label": 1}"#, "features.b: expected a string or a number"),
        (#"{"features": {"a": [1]}, "label": 1}"#, "features.a: expected a string or a number"),
        (#"{"features": {"a": "x"}, "label": 1"#, "not a JSON object"),
        (#"{"features": {"a": "x"#, "not a JSON object"),
        (#"{"features": {"a": "x"}, "label": 1} trailing"#, "not a JSON object"),
        (#"{"features": {"a": "\x"}, "label": 1}"#, "not a JSON object"),
        (#"{"features": {"a": "\u12"}, "label": 1}"#, "not a JSON object"),
        (#"{"features": {"a": "\ud800"}, "label": 1}"#, "not a JSON object"),
        (#"{"features": {"a": "\udc00"}, "label": 1}"#, "not a JSON object"),
        ("{\"features\": {\"a\": \"tab\there\"}, \"label\": 1}", "not a JSON object"),
        (#"{"features": {"a": 01}, "label": 1}"#, "not a JSON object"),
        (#"{"features": {"a": .5}, "label": 1}"#, "not a JSON object"),
        (#"{"features": {"a": 1.}, "label": 1}"#, "not a JSON object"),
        (#"{"features": {"a": 1e400}, "label": 1}"#, "not a JSON object"),
        (#"{"features": {"a": NaN}, "label": 1}"#, "not a JSON object"),
        (#"{"features": {"a": 1}, "label": 1,,}"#, "not a JSON object"),
        (#"{"features": {a: 1}, "label": 1}"#, "not a JSON object"),
        (#"[{"features": {"a": 1}, "label": 1}]"#, "not a JSON object"),
        (#"{"features": {"a": 1}, "label": 1, "x": [1 2]}"#, "not a JSON object"),
        (#"{"features": {"a": 1}, "label": tru}"#, "not a JSON object"),
    ]

    @Test(arguments: badLines.indices)
    func malformedJSONLinesNameFileAndLine(_ k: Int) throws {
        let (line, message) = Self.badLines[k]
        let path = try ReplayFixtures.write([Self.good, line, Self.good])
        let expected = "\(path):2: \(message)"
        let old = #expect(throws: LogError.self) { try ReferenceLogReader.read(path, format: .jsonl) { _ in } }
        #expect(old?.message == expected)
        let new = #expect(throws: LogError.self) { try LogReader.readHashed(path, format: .jsonl, hasher: FeatureHasher()) { _, _, _ in } }
        #expect(new?.message == expected)
    }

    @Test func invalidUTF8IsRefused() throws {
        let dir = try TestSupport.temporaryDirectory("replay")
        let url = dir.appendingPathComponent("bad.jsonl")
        try Data(Array(#"{"features": {"a": "x"#.utf8) + [0xC3, 0x28] + Array(#""}, "label": 1}"#.utf8) + [10]).write(to: url)
        for read in [{ try ReferenceLogReader.read(url.path, format: .jsonl) { _ in } },
                     { try LogReader.readHashed(url.path, format: .jsonl, hasher: FeatureHasher()) { _, _, _ in } }] {
            let e = #expect(throws: LogError.self) { try read() }
            #expect(e?.message == "\(url.path):1: not a JSON object")
        }
    }

    /// An OBD log made from the first rows of data/obd/random/men.csv, one row edited.
    func obdLog(edit: (inout [String]) -> Void) throws -> String {
        let text = try String(contentsOfFile: ReplayFixtures.path("data/obd/random/men.csv"), encoding: .utf8)
        var lines = text.split(separator: "\n").prefix(4).map(String.init)
        var fields = lines[2].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        edit(&fields)
        lines[2] = fields.joined(separator: ",")
        let path = try ReplayFixtures.write(lines, "men.csv")
        try FileManager.default.copyItem(atPath: ReplayFixtures.path("data/obd/random/item_context.csv"),
                                         toPath: URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("item_context.csv").path)
        return path
    }

    @Test func malformedOBDRowsNameFileAndLine() throws {
        let cases: [(edit: (inout [String]) -> Void, message: String)] = [
            ({ $0.removeLast() }, "expected 44 columns, got 43"),
            ({ $0.append("1") }, "expected 44 columns, got 45"),
            ({ $0[4] = "yes" }, "click 'yes' is not a number"),
            ({ $0[2] = "5"; $0[10 + 5] = "high" }, "user-item_affinity_5 'high' is not a number"),
        ]
        for (edit, message) in cases {
            let path = try obdLog(edit: edit)
            let old = #expect(throws: LogError.self) { try ReferenceLogReader.read(path, format: .obd) { _ in } }
            #expect(old?.message == "\(path):3: \(message)")
            let new = #expect(throws: LogError.self) { try LogReader.readHashed(path, format: .obd, hasher: FeatureHasher()) { _, _, _ in } }
            #expect(new?.message == "\(path):3: \(message)")
        }
        let missing = #expect(throws: LogError.self) { try LogReader.readHashed("/nonexistent/men.csv", format: .obd, items: ReplayFixtures.path("data/obd/random/item_context.csv"), hasher: FeatureHasher()) { _, _, _ in } }
        #expect(missing?.message == "/nonexistent/men.csv: no such file")
    }

    @Test func nonFiniteValuesReachTheLearnerAndAreRejected() throws {
        // "nan" parses as a number (as Double("nan") did before); the learner refuses the row and counts it.
        let path = try obdLog { $0[2] = "5"; $0[10 + 5] = "nan" }
        var learner = Learner()
        try LogReader.readHashed(path, format: .obd, hasher: learner.config.hasher) { f, label, weight in
            learner.learn(f, label: label, weight: weight)
        }
        #expect(learner.rejections[.nonFiniteFeature] == 1)
        #expect(learner.updates == 2)
    }
}
