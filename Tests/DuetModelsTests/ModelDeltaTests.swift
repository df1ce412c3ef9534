@testable import DuetModels
import Foundation
import Testing

/// `ModelDelta`: what a replica applies to the version it holds must give the trainer's next version
/// bitwise, share every page it does not touch, and refuse anything else with a `ModelFileError`.
@Suite struct ModelDeltaTests {
    /// 2^16 weights (16 pages) and k = 3 (48 pages of factors), one interaction.
    static func config(bits: Int = 16, k: Int = 3) -> ModelConfig {
        var c = ModelConfig()
        c.bits = bits
        c.k = k
        c.interactions = [["u", "x"]]
        return c
    }

    /// The versions an online learner publishes every 40 examples of a stream with few distinct
    /// features (so most pages stay untouched between versions), the start version first.
    static func published(config c: ModelConfig = config(), count: Int = 8) -> [ModelVersion] {
        let slot = ModelSlot(name: "online", capacity: 64)
        let start = fresh(c, id: "0")
        let learner = OnlineLearner(slot: slot, start: start, firstID: 1, publishEvery: 40)
        let h = c.hasher
        learner.replay((0..<(40 * count)).map { i in
            let features = h.hash([NamedFeature("u", .string("\(i % 7)")), NamedFeature("x", .number(Double(i % 3)))])
            return OnlineLearner.Example(features: features, label: i % 5 == 0 ? 1 : 0, sequence: UInt64(i + 1))
        })
        return [start] + slot.versions
    }

    static let versions = published()

    /// A new model's first version (factors drawn, weights 0).
    static func fresh(_ c: ModelConfig, id: String) -> ModelVersion {
        var learner = Learner(config: c)
        return learner.publish(id: id, parentID: nil, kind: .online)
    }

    /// A valid delta between two published versions.
    static let delta: [UInt8] = try! ModelDelta.encode(from: versions[3], to: versions[4])

    func expectSame(_ a: ModelVersion, _ b: ModelVersion) {
        #expect(a.id == b.id)
        #expect(a.parentID == b.parentID)
        #expect(a.kind == b.kind)
        #expect(a.createdAt.timeIntervalSince1970 == b.createdAt.timeIntervalSince1970)
        #expect(a.examples == b.examples)
        #expect(a.metrics == b.metrics)
        #expect(a.config == b.config)
        #expect(a.positives == b.positives)
        #expect(a.seen == b.seen)
        #expect(a.feedbackOffset == b.feedbackOffset)
        #expect(a.weights.flattened().map(\.bitPattern) == b.weights.flattened().map(\.bitPattern))
        #expect(a.factors.flattened().map(\.bitPattern) == b.factors.flattened().map(\.bitPattern))
    }

    @Test func everyPublishedVersionFollowsFromItsParent() throws {
        let versions = Self.versions
        #expect(versions.count == 9)
        var replica = versions[0]
        for (parent, child) in zip(versions, versions.dropFirst()) {
            let bytes = try ModelDelta.encode(from: parent, to: child)
            #expect(try ModelDelta.parentID(of: bytes) == parent.id)
            // Far smaller than the file: a few features changed.
            let fileSize = try ModelFile.encode(child).count
            #expect(bytes.count < fileSize / 20)
            let applied = try ModelDelta.apply(bytes, to: replica)
            expectSame(applied, child)
            // Pages the delta does not touch are the replica's own; some are touched, most are not.
            for (new, old) in [(applied.weights, replica.weights), (applied.factors, replica.factors)] {
                let shared = zip(new.pages, old.pages).filter { $0.0 === $0.1 }.count
                #expect(shared > 0 && shared < new.pages.count)
                for p in new.pages.indices where new.pages[p] !== old.pages[p] {
                    #expect(new.pages[p].values != old.pages[p].values)
                }
            }
            replica = applied
        }
    }

    @Test func aDeltaAcrossSeveralVersionsAndAnEmptyOne() throws {
        let v = Self.versions
        expectSame(try ModelDelta.apply(ModelDelta.encode(from: v[1], to: v[7]), to: v[1]), v[7])
        // No weight changed: only the identity and metadata travel, and every page is shared.
        let renamed = v[5].renamed(id: "5-copy", parentID: "5")
        let bytes = try ModelDelta.encode(from: v[5], to: renamed)
        #expect(bytes.count < 1000)
        let applied = try ModelDelta.apply(bytes, to: v[5])
        expectSame(applied, renamed)
        #expect(zip(applied.weights.pages, v[5].weights.pages).allSatisfy { $0 === $1 })
        #expect(zip(applied.factors.pages, v[5].factors.pages).allSatisfy { $0 === $1 })
    }

    @Test func valuesThatDifferOnlyInTheirBitsTravel() throws {
        let c = Self.config(bits: 4, k: 1)
        let base = ModelVersion(
            id: "a", parentID: nil, kind: .online, examples: 0, metrics: .init(), config: c, positives: 0, seen: 0,
            weights: WeightPages([Float](repeating: 0, count: 16)), factors: WeightPages([Float](repeating: 1, count: 16)))
        var w = [Float](repeating: 0, count: 16)
        w[0] = -0.0
        w[15] = 1e6
        var f = [Float](repeating: 1, count: 16)
        f[7] = -1e6
        let child = ModelVersion(
            id: "b", parentID: "a", kind: .online, examples: 3, metrics: .init(logloss: 0.25, auc: 0.5, clicks: 1, examples: 3),
            config: c, positives: 1, seen: 3, weights: WeightPages(w), factors: WeightPages(f), feedbackOffset: 42)
        let applied = try ModelDelta.apply(ModelDelta.encode(from: base, to: child), to: base)
        expectSame(applied, child)
        #expect(applied.weights[0].sign == .minus)
    }

    @Test func aDeltaForAnotherVersionIsRefused() throws {
        let v = Self.versions
        #expect(throws: ModelFileError.self) { try ModelDelta.apply(Self.delta, to: v[2]) }
        do {
            _ = try ModelDelta.apply(Self.delta, to: v[3].renamed(id: "3b", parentID: "2"))
            Issue.record("applied to another id")
        } catch {
            #expect(error.reason == .wrongBase)
            #expect(error.message.contains("\"3\"") && error.message.contains("\"3b\""))
        }
    }

    @Test func shapesMustMatch() throws {
        let v = Self.versions
        for other in [Self.config(bits: 13), Self.config(k: 2), { var c = Self.config(); c.interactions = []; return c }()] {
            let stranger = Self.fresh(other, id: "3")
            // Encoding between shapes, and applying to a base of another shape (with the right id).
            #expect(Self.reason { try ModelDelta.encode(from: v[3], to: stranger) } == .wrongBase)
            #expect(Self.reason { try ModelDelta.apply(Self.delta, to: stranger) } == .wrongBase)
        }
        // Hyper-parameters are not shape: a delta carries the child's.
        var tuned = Self.config()
        tuned.learningRate = 0.1
        let child = ModelVersion(
            id: "tuned", parentID: "3", kind: .online, examples: 0, metrics: .init(), config: tuned, positives: 0, seen: 0,
            weights: v[3].weights, factors: v[3].factors)
        #expect(try ModelDelta.apply(ModelDelta.encode(from: v[3], to: child), to: v[3]).config == tuned)
    }

    @Test func whatCouldNotBeAppliedIsNotEncoded() {
        let base = Self.versions[3]
        var w = base.weights.flattened()
        w[5] = .nan
        let bad = ModelVersion(
            id: "bad", parentID: "3", kind: .online, examples: 0, metrics: .init(), config: base.config, positives: 0, seen: 0,
            weights: WeightPages(w), factors: base.factors)
        #expect(Self.reason { try ModelDelta.encode(from: base, to: bad) } == .nonFinite)
        let badID = base.renamed(id: "a/b", parentID: "3")
        #expect(Self.reason { try ModelDelta.encode(from: base, to: badID) } == .range)
    }

    // MARK: Hostile bytes

    /// `bytes` with its SHA-256 trailer recomputed, as an attacker who can write to Redis would send it.
    static func resealed(_ bytes: [UInt8]) -> [UInt8] {
        let body = Array(bytes.dropLast(32))
        return body + ModelFile.checksum(of: body)
    }

    /// The reason `body` throws for (nil when it does not, or not a `ModelFileError`).
    static func reason<T>(_ body: () throws -> T) -> ModelFileError.Reason? {
        do {
            _ = try body()
            return nil
        } catch {
            return (error as? ModelFileError)?.reason
        }
    }

    /// Refused with a `ModelFileError` (and not a trap, which would end the test run).
    func refusal(_ bytes: [UInt8], base: ModelVersion = ModelDeltaTests.versions[3]) -> ModelFileError? {
        do {
            _ = try ModelDelta.apply(bytes, to: base)
            return nil
        } catch {
            return error
        }
    }

    @Test func everyTruncationIsRefused() {
        let bytes = Self.delta
        for n in 0..<bytes.count {
            let cut = Array(bytes.prefix(n))
            #expect(refusal(cut) != nil, "\(n) bytes")
            // Resealed, a cut shorter than the checksum only reaches the layout checks.
            if n >= 41 { #expect(refusal(Self.resealed(cut)) != nil, "\(n) bytes, resealed") }
            _ = try? ModelDelta.parentID(of: cut)
        }
        #expect(refusal(bytes + [0]) != nil)
        #expect(refusal(Self.resealed(bytes.dropLast(32) + [0] + bytes.suffix(32)))?.reason == .layout)
    }

    @Test func randomBitFlipsAreRefused() {
        var rng = SplitMix64(seed: 7)
        let bytes = Self.delta
        for _ in 0..<2000 {
            var b = bytes
            let i = Int(rng.next() % UInt64(b.count))
            b[i] ^= UInt8(1) << (rng.next() % 8)
            #expect(refusal(b)?.reason == (i < 8 ? .magic : i == 8 ? .version : .checksum), "byte \(i)")
            // Resealed, a flip is either refused or still gives a version of the right shape.
            if let v = try? ModelDelta.apply(Self.resealed(b), to: Self.versions[3]) {
                #expect(v.weights.count == Self.versions[3].weights.count)
                #expect(v.weights.flattened().allSatisfy { abs($0) <= ModelFile.maxAbsWeight })
            }
            _ = try? ModelDelta.parentID(of: b)
        }
    }

    /// The offset of the weights section (after the header), in `delta`.
    static var sectionsStart: Int {
        let b = delta
        let idLength = Int(b[9])
        let at = 10 + idLength
        let headerLength = Int(b[at]) | Int(b[at + 1]) << 8 | Int(b[at + 2]) << 16 | Int(b[at + 3]) << 24
        return at + 4 + headerLength
    }

    /// The delta with its weights and factors sections replaced, resealed.
    static func withSections(_ sections: [UInt8]) -> [UInt8] {
        resealed(Array(delta[..<sectionsStart]) + sections + [UInt8](repeating: 0, count: 32))
    }

    static func varint(_ v: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        ModelDelta.appendVarint(&out, v)
        return out
    }

    static func float(_ x: Float) -> [UInt8] { withUnsafeBytes(of: x.bitPattern.littleEndian) { Array($0) } }

    static let hostileSections: [(String, [UInt8], ModelFileError.Reason)] = [
        // A forged count asks for more entries than there are weights, or than the bytes could hold.
        ("2^60 weight entries", varint(1 << 60), ModelFileError.Reason.layout),
        ("2^16 weight entries in 20 bytes", varint(1 << 16) + [UInt8](repeating: 0, count: 20), .truncated),
        ("2^16 + 1 weight entries", varint((1 << 16) + 1), .layout),
        ("an index at the end", varint(1) + varint(1 << 16) + float(1) + varint(0), .layout),
        ("an index gap that overflows", varint(2) + varint(5) + varint(.max) + float(1) + float(1) + varint(0), .layout),
        ("a varint of 11 bytes", [UInt8](repeating: 0xFF, count: 10) + [1], .layout),
        ("a varint not in its shortest form", [0x81, 0x00] + float(1) + varint(0), .layout),
        ("a NaN weight", varint(1) + varint(3) + float(.nan) + varint(0), .nonFinite),
        ("an infinite factor", varint(0) + varint(1) + varint(3) + float(-.infinity), .nonFinite),
        ("a weight beyond 1e6", varint(1) + varint(3) + float(2e6) + varint(0), .range),
        ("no factors section", varint(0), .truncated),
        ("bytes after the factors", varint(0) + varint(0) + [0], .layout),
    ]

    @Test(arguments: ModelDeltaTests.hostileSections)
    func hostileSectionsAreRefused(_ name: String, _ sections: [UInt8], _ reason: ModelFileError.Reason) {
        let error = refusal(Self.withSections(sections))
        #expect(error?.reason == reason, "\(name): \(error?.message ?? "applied")")
    }

    @Test func hostileSectionsThatAreValidApply() throws {
        // Sanity check of the section helpers: one weight and the last factor set.
        let base = Self.versions[3]
        let last = (1 << 16) * 3 - 1
        let sections = Self.varint(1) + Self.varint(3) + Self.float(0.5) + Self.varint(1) + Self.varint(UInt64(last)) + Self.float(-2)
        let v = try ModelDelta.apply(Self.withSections(sections), to: base)
        #expect(v.weights[3] == 0.5 && v.factors[last] == -2)
        #expect(v.id == "4")
    }

    @Test func hostileHeadersAreRefused() {
        let b = Self.delta
        // Another format version, an id length past the end, a parent id with a '/', a header length past the end, bad JSON.
        var version = b
        version[8] = 2
        #expect(refusal(Self.resealed(version))?.reason == .version)
        var idLength = b
        idLength[9] = 255
        #expect(refusal(Self.resealed(idLength)) != nil)
        var slash = b
        slash[10] = UInt8(ascii: "/")
        #expect(refusal(Self.resealed(slash))?.reason == .range)
        #expect(throws: ModelFileError.self) { try ModelDelta.parentID(of: slash) }
        var zero = b
        zero[9] = 0
        #expect(refusal(Self.resealed(zero)) != nil)
        let at = 10 + Int(b[9])
        var length = b
        length[at + 3] = 0x7F
        #expect(refusal(Self.resealed(length))?.reason == .truncated)
        var json = b
        json[at + 4] = UInt8(ascii: "[")
        #expect(refusal(Self.resealed(json))?.reason == .header)
        #expect(refusal(Array("DUETMODL".utf8) + b.dropFirst(8))?.reason == .magic)
    }
}
