@testable import DuetModels
import DuetTestSupport
import Foundation
import Testing

/// Model files written by someone who means harm, checksum recomputed: each is refused with a
/// `ModelFileError` naming the reason, never a trap (a trap takes the server down with it, and again at
/// every restart while the file is there).
@Suite struct HostileModelFileTests {
    /// A small valid file: 2^6 weights, k = 2, one interaction.
    static let valid: [UInt8] = {
        var c = ModelConfig()
        c.bits = 6
        c.k = 2
        c.interactions = [["u", "x"]]
        var learner = Learner(config: c)
        let h = c.hasher
        for i in 0..<200 {
            learner.learn(h.hash([NamedFeature("u", .string("\(i % 7)")), NamedFeature("x", .number(Double(i % 3)))]), label: i % 5 == 0 ? 1 : 0)
        }
        return try! ModelFile.encode(learner.publish(id: "small", parentID: "small-0", kind: .static))
    }()

    /// A hostile change and the reason it must be refused for.
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var reason: ModelFileError.Reason
        var edit: @Sendable (inout HostileModelFile) -> Void
        var testDescription: String { name }
    }

    static func config(_ key: String, _ value: Any) -> @Sendable (inout HostileModelFile) -> Void {
        nonisolated(unsafe) let value = value
        return { $0.editConfig { $0[key] = value } }
    }

    static func header(_ key: String, _ value: Any) -> @Sendable (inout HostileModelFile) -> Void {
        nonisolated(unsafe) let value = value
        return { $0.editHeader { $0[key] = value } }
    }

    /// Sets `key` of the header to `literal`, as JSON text no encoder writes (`1e400`).
    static func rawHeader(_ key: String, _ literal: String) -> @Sendable (inout HostileModelFile) -> Void {
        { f in
            f.editHeader { $0[key] = "@@RAW@@" }
            f.setHeader(Array(String(decoding: f.header, as: UTF8.self).replacingOccurrences(of: "\"@@RAW@@\"", with: literal).utf8))
        }
    }

    static let cases: [Case] = [
        // The issue's cases.
        Case(name: "k = -1", reason: .range, edit: config("k", -1)),
        Case(name: "k = 2^53", reason: .range, edit: config("k", 1 << 53)),
        Case(name: "bits = 62 with N = 2^62", reason: .range, edit: { f in
            f.editConfig { $0["bits"] = 62 }
            f.weightCount = 1 << 62
        }),
        Case(name: "bits = 0", reason: .range, edit: config("bits", 0)),
        Case(name: "bits = -1", reason: .range, edit: config("bits", -1)),
        Case(name: "bits = 64", reason: .range, edit: config("bits", 64)),
        Case(name: "bits = 29", reason: .range, edit: config("bits", 29)),
        Case(name: "k = 65", reason: .range, edit: config("k", 65)),
        // Counts and lengths against the config and the file.
        Case(name: "N one short of 2^bits", reason: .layout, edit: { $0.weightCount -= 1 }),
        Case(name: "N = UInt64.max", reason: .layout, edit: { $0.weightCount = .max }),
        Case(name: "M for another k", reason: .layout, edit: { $0.factorCount = 64 * 3 }),
        Case(name: "M = 2^62", reason: .layout, edit: { $0.factorCount = 1 << 62 }),
        Case(name: "header length beyond the file", reason: .truncated, edit: { $0.headerLength = .max }),
        Case(name: "header length one byte beyond the file", reason: .truncated, edit: { f in
            f.headerLength += UInt32(8 + f.weights.count + 8 + f.factors.count + 1)
        }),
        Case(name: "header length cutting the JSON", reason: .header, edit: { $0.headerLength -= 1 }),
        Case(name: "factors missing", reason: .truncated, edit: { $0.factors = [] }),
        Case(name: "bytes after the factors", reason: .layout, edit: { $0.trailing = [0, 0, 0, 0] }),
        Case(name: "format version 3", reason: .version, edit: { $0.formatVersion = 3 }),
        Case(name: "format version 2 without an optimizer state", reason: .layout, edit: { $0.formatVersion = 2 }),
        Case(name: "a NaN weight", reason: .nonFinite, edit: { f in
            withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { f.weights.replaceSubrange(4..<8, with: $0) }
        }),
        Case(name: "an infinite factor", reason: .nonFinite, edit: { f in
            withUnsafeBytes(of: Float.infinity.bitPattern.littleEndian) { f.factors.replaceSubrange(0..<4, with: $0) }
        }),
        Case(name: "a weight of 3e38 (finite, but its square is not)", reason: .range, edit: { f in
            withUnsafeBytes(of: Float(3e38).bitPattern.littleEndian) { f.weights.replaceSubrange(8..<12, with: $0) }
        }),
        // Numbers in the header.
        Case(name: "seen = 1e300 (Int(seen) traps when the learner publishes)", reason: .range, edit: header("seen", 1e300)),
        Case(name: "seen = 1e400", reason: .header, edit: rawHeader("seen", "1e400")),
        Case(name: "seen = NaN", reason: .header, edit: rawHeader("seen", "NaN")),
        Case(name: "positives = -1", reason: .range, edit: header("positives", -1)),
        Case(name: "examples = -5", reason: .range, edit: header("examples", -5)),
        Case(name: "examples = 2^64", reason: .header, edit: rawHeader("examples", "18446744073709551616")),
        Case(name: "created_at = 1e300", reason: .range, edit: header("created_at", 1e300)),
        Case(name: "metrics.auc = 2", reason: .range, edit: { $0.editHeader { h in
            var m = h["metrics"] as! [String: Any]
            m["auc"] = 2
            h["metrics"] = m
        } }),
        Case(name: "metrics.clicks = -1", reason: .range, edit: { $0.editHeader { h in
            var m = h["metrics"] as! [String: Any]
            m["clicks"] = -1
            h["metrics"] = m
        } }),
        Case(name: "learningRate = 0", reason: .range, edit: config("learningRate", 0)),
        Case(name: "learningRate = -1", reason: .range, edit: config("learningRate", -1)),
        Case(name: "learningRate = 1e39 (beyond Float)", reason: .header, edit: config("learningRate", 1e39)),
        Case(name: "factorLearningRate = 0", reason: .range, edit: config("factorLearningRate", 0)),
        Case(name: "clip = 0", reason: .range, edit: config("clip", 0)),
        Case(name: "l2 = -1", reason: .range, edit: config("l2", -1)),
        Case(name: "ftrlBeta = -1", reason: .range, edit: config("ftrlBeta", -1)),
        Case(name: "factorInit = 5", reason: .range, edit: config("factorInit", 5)),
        Case(name: "priorPositives = 1e300", reason: .range, edit: config("priorPositives", 1e300)),
        Case(name: "shrinkage = -1", reason: .range, edit: config("shrinkage", -1)),
        Case(name: "an interaction of one field", reason: .range, edit: config("interactions", [["u"]])),
        Case(name: "an interaction of three fields", reason: .range, edit: config("interactions", [["u", "x", "y"]])),
        Case(name: "an interaction with an empty field", reason: .range, edit: config("interactions", [["u", ""]])),
        Case(name: "2,000 interactions", reason: .range, edit: config("interactions", Array(repeating: ["u", "x"], count: 2000))),
        Case(name: "an unknown optimizer", reason: .header, edit: config("optimizer", "sgd")),
        Case(name: "an empty id", reason: .range, edit: header("id", "")),
        Case(name: "an id that is a path", reason: .range, edit: header("id", "../static/evil")),
        Case(name: "a parent id with a newline", reason: .range, edit: header("parent_id", "a\nb")),
        Case(name: "an id of 300 bytes", reason: .range, edit: header("id", String(repeating: "x", count: 300))),
        Case(name: "no config", reason: .header, edit: { $0.editHeader { $0["config"] = nil } }),
        Case(name: "a header that is not JSON", reason: .header, edit: { $0.setHeader(Array("not json".utf8)) }),
    ]

    /// A small valid file with an FTRL optimizer state (2^6 accumulators, 2^6·2 factor accumulators, 2^6 z).
    static let validWithState: [UInt8] = {
        var c = ModelConfig()
        c.bits = 6
        c.k = 2
        c.optimizer = .ftrl
        var learner = Learner(config: c)
        let h = c.hasher
        for i in 0..<200 {
            learner.learn(h.hash([NamedFeature("u", .string("\(i % 7)")), NamedFeature("x", .number(Double(i % 3)))]), label: i % 5 == 0 ? 1 : 0)
        }
        return try! ModelFile.encode(learner.publish(id: "small", parentID: nil, kind: .static), optimizerState: learner.optimizerState)
    }()

    /// Sets value `index` of the state's array `array` (0: accumulators, 1: factor accumulators, 2: z).
    static func stateValue(_ array: Int, _ index: Int, _ value: Float) -> @Sendable (inout HostileModelFile) -> Void {
        { f in
            var arrays = f.optimizerState
            arrays[array][index] = value
            f.optimizerState = arrays
        }
    }

    /// Hostile changes to the optimizer-state section (applied to `validWithState`).
    static let stateCases: [Case] = [
        Case(name: "state length of 2^60", reason: .layout, edit: header("optimizer_state_bytes", 1 << 60)),
        Case(name: "state length one byte more than bits and k give", reason: .layout, edit: { f in
            f.editHeader { $0["optimizer_state_bytes"] = ($0["optimizer_state_bytes"] as! Int) + 1 }
            f.trailing.append(0)
        }),
        Case(name: "state section cut short", reason: .truncated, edit: { $0.trailing.removeLast(4) }),
        Case(name: "state section missing", reason: .truncated, edit: { $0.trailing = [] }),
        Case(name: "bytes after the state", reason: .layout, edit: { $0.trailing += [0, 0, 0, 0] }),
        Case(name: "accumulator count 2^62", reason: .layout, edit: { f in
            withUnsafeBytes(of: (UInt64(1) << 62).littleEndian) { f.trailing.replaceSubrange(0..<8, with: $0) }
        }),
        Case(name: "a z count of 0 under FTRL", reason: .layout, edit: { f in
            var arrays = f.optimizerState
            arrays[2] = []
            f.optimizerState = arrays
            let length = f.trailing.count
            f.editHeader { $0["optimizer_state_bytes"] = length }
        }),
        Case(name: "an AdaGrad state for an FTRL model", reason: .range, edit: header("optimizer_state", "adagrad")),
        Case(name: "an unknown state kind", reason: .header, edit: header("optimizer_state", "sgd")),
        Case(name: "a state kind without its length", reason: .header, edit: header("optimizer_state_bytes", NSNull())),
        Case(name: "a state in a format version 1 file", reason: .layout, edit: { $0.formatVersion = 1 }),
        Case(name: "a NaN accumulator", reason: .nonFinite, edit: stateValue(0, 3, .nan)),
        Case(name: "a negative FTRL n", reason: .range, edit: stateValue(0, 3, -1)),
        Case(name: "an accumulator of 1e31", reason: .range, edit: stateValue(0, 3, 1e31)),
        Case(name: "a factor accumulator of 0 (a step divided by nothing)", reason: .range, edit: stateValue(1, 5, 0)),
        Case(name: "an infinite factor accumulator", reason: .nonFinite, edit: stateValue(1, 5, .infinity)),
        Case(name: "a z giving a weight beyond ±1e6", reason: .range, edit: stateValue(2, 7, 1e33)),
        Case(name: "an infinite z", reason: .nonFinite, edit: stateValue(2, 7, -.infinity)),
    ]

    @Test(arguments: stateCases)
    func hostileOptimizerStateIsRefused(_ c: Case) {
        let bytes = HostileModelFile.rewrite(Self.validWithState, c.edit)
        for keepingState in [false, true] {
            do {
                _ = try ModelFile.decode(bytes, name: "hostile.duet", keepingState: keepingState)
                Issue.record("\(c.name): decoded")
            } catch {
                #expect(error.reason == c.reason, "\(c.name): \(error)")
                #expect(error.message.hasPrefix("hostile.duet: "), "\(error)")
            }
        }
    }

    @Test func anAdaGradAccumulatorBelowItsStartIsRefused() throws {
        var c = ModelConfig()
        c.bits = 6
        c.k = 2
        var fresh = Learner(config: c)
        let v = fresh.publish(id: "a", parentID: nil, kind: .static)
        var state = OptimizerState(fresh: c)
        let good = try ModelFile.encode(v, optimizerState: state)
        #expect(try ModelFile.decodeWithOptimizerState(good).optimizerState == state)
        state.linear[9] = 0.5
        let bad = try ModelFile.encode(v, optimizerState: state)
        let error = try #require(throws: ModelFileError.self) { try ModelFile.decode(bad, name: "m.duet") }
        #expect(error.reason == ModelFileError.Reason.range)
        #expect(error.message == "m.duet: optimizer state linear[9] = 0.5: must be within 1.0…1e+30")
        // And the writer does not write what the reader would refuse.
        let path = try TestSupport.temporaryDirectory("hostile").appendingPathComponent("a.duet").path
        #expect(throws: ModelFileError.self) { try ModelFile.write(v, optimizerState: state, to: path) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func theRewriterAloneChangesNothingTheReaderMinds() throws {
        let same = HostileModelFile.rewrite(Self.valid) { $0.editHeader { _ in } }
        let v = try ModelFile.decode(same)
        #expect(v.id == "small" && v.config.bits == 6 && v.config.k == 2 && v.config.interactions == [["u", "x"]])
        let withState = HostileModelFile.rewrite(Self.validWithState) { $0.optimizerState = $0.optimizerState }
        #expect(withState == Self.validWithState)
        #expect(try ModelFile.decodeWithOptimizerState(withState).optimizerState?.z.count == 64)
    }

    @Test(arguments: cases)
    func hostileFileIsRefused(_ c: Case) {
        let bytes = HostileModelFile.rewrite(Self.valid, c.edit)
        do {
            _ = try ModelFile.decode(bytes, name: "hostile.duet")
            Issue.record("\(c.name): decoded")
        } catch {
            #expect(error.reason == c.reason, "\(c.name): \(error)")
            #expect(error.message.hasPrefix("hostile.duet: "), "\(error)")
        }
    }

    @Test func theMessageNamesTheFileAndTheField() throws {
        let bytes = HostileModelFile.rewrite(Self.valid, Self.config("k", -1))
        let error = try #require(throws: ModelFileError.self) { try ModelFile.decode(bytes, name: "models/static/evil.duet") }
        #expect(error.message == "models/static/evil.duet: header field config.k = -1: must be within 0…64")
    }

    @Test func aModelThatCouldNotBeReadBackIsNotWritten() throws {
        let v = try ModelFile.decode(Self.valid)
        var w = v.weights.flattened()
        w[3] = 2e6
        let huge = ModelVersion(id: "huge", parentID: nil, kind: .online, examples: 0, metrics: .init(), config: v.config,
                                positives: 1, seen: 2, weights: WeightPages(w), factors: v.factors)
        let path = try TestSupport.temporaryDirectory("hostile").appendingPathComponent("huge.duet").path
        let error = try #require(throws: ModelFileError.self) { try ModelFile.write(huge, to: path) }
        #expect(error.reason == .range && !FileManager.default.fileExists(atPath: path))
    }

    @Test func onlyRegularFilesAreRead() throws {
        let dir = try TestSupport.temporaryDirectory("hostile")
        let fifo = dir.appendingPathComponent("fifo.duet").path
        #expect(mkfifo(fifo, 0o644) == 0)
        // Opening a FIFO for reading would wait for a writer forever.
        let error = try #require(throws: ModelFileError.self) { try ModelFile.read(path: fifo) }
        #expect(error.reason == .io && error.message.contains("not a regular file"))
        #expect(throws: ModelFileError.self) { try ModelFile.read(path: dir.path) }
    }

    @Test func everyConfigTheCLIMakesIsValid() throws {
        try ModelConfig().validate()
        var c = ModelConfig()
        c.bits = 28
        c.k = 64
        c.optimizer = .ftrl
        try c.validate()
    }

    /// Bytes of a valid file changed at random (the checksum recomputed each time), numbers of the header
    /// set to edge values, counts set to anything: decoding throws or gives a model that scores and
    /// learns with finite numbers. Seeded, so a failure repeats.
    @Test func mutatedFilesAreRefusedOrUsable() throws {
        var rng = SplitMix64(seed: 16)
        func below(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        let body = Array(Self.valid.dropLast(32))
        let numbers = [
            "created_at", "examples", "positives", "seen", "metrics.auc", "metrics.clicks", "metrics.examples", "metrics.logloss",
            "config.bits", "config.k", "config.clip", "config.factorInit", "config.factorLearningRate", "config.ftrlBeta", "config.l1",
            "config.l2", "config.learningRate", "config.priorNegatives", "config.priorPositives", "config.shrinkage",
        ]
        let edges = [
            "-1", "0", "1", "2", "6", "7", "28", "29", "63", "64", "2147483648", "9007199254740992", "4611686018427387904",
            "9223372036854775807", "-9223372036854775808", "18446744073709551615", "1e18", "1e19", "1e300", "-1e300", "1e400",
            "5e-324", "0.5", "-0.0", "3.4028235e38", "3.5e38",
        ]
        let counts: [UInt64] = [0, 1, 63, 64, 65, 127, 128, 129, 1 << 31, 1 << 62, .max, .max / 4 + 1]
        var outcomes: [String: Int] = [:]
        for _ in 0..<2_000 {
            let bytes: [UInt8]
            switch below(4) {
            case 0:
                // A few bytes anywhere before the trailer.
                var b = body
                for _ in 0...below(4) { b[8 + below(b.count - 8)] = UInt8(truncatingIfNeeded: rng.next()) }
                bytes = HostileModelFile.sealed(b)
            case 1:
                // Cut short or grown.
                var b = body
                if below(2) == 0 { b.removeLast(1 + below(b.count - 9)) } else { b += (0...below(64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
                bytes = HostileModelFile.sealed(b)
            case 2:
                // One number of the header at an edge.
                let path = numbers[below(numbers.count)].split(separator: ".").map(String.init), value = edges[below(edges.count)]
                bytes = HostileModelFile.rewrite(Self.valid) { f in
                    f.editHeader { h in
                        if path.count == 1 {
                            h[path[0]] = "@@RAW@@"
                        } else {
                            var inner = h[path[0]] as? [String: Any] ?? [:]
                            inner[path[1]] = "@@RAW@@"
                            h[path[0]] = inner
                        }
                    }
                    f.setHeader(Array(String(decoding: f.header, as: UTF8.self).replacingOccurrences(of: "\"@@RAW@@\"", with: value).utf8))
                }
            default:
                // Counts and the header length set to anything.
                bytes = HostileModelFile.rewrite(Self.valid) { f in
                    switch below(3) {
                    case 0: f.weightCount = counts[below(counts.count)]
                    case 1: f.factorCount = counts[below(counts.count)]
                    default: f.headerLength = UInt32(truncatingIfNeeded: counts[below(counts.count)])
                    }
                }
            }
            do {
                let v = try ModelFile.decode(bytes)
                outcomes["read", default: 0] += 1
                #expect((try? v.config.validate()) != nil)
                #expect(v.weights.count == v.config.size && v.factors.count == v.config.size * v.config.k)
                #expect(v.weights.flattened().allSatisfy(\.isFinite) && v.factors.flattened().allSatisfy(\.isFinite))
                #expect(v.bias.isFinite && v.featureScale.isFinite)
                // What a server does with a model it read: score, learn, publish.
                let features = v.config.hasher.hash([NamedFeature("u", .string("3")), NamedFeature("x", .number(2))])
                #expect(v.predict(features).isFinite)
                var learner = Learner(start: v)
                learner.learn(features, label: 1)
                let next = learner.publish(id: "next", parentID: v.id, kind: .online)
                #expect(next.predict(features).isFinite)
            } catch {
                outcomes[error.reason.rawValue, default: 0] += 1
            }
        }
        // The mutations reach past the checksum, into the header, the counts and the weights.
        for reason in ["read", "header", "range", "layout", "truncated"] {
            #expect(outcomes[reason, default: 0] > 0, "\(reason) never happened: \(outcomes)")
        }
    }
}
