import DuetModels
import DuetRouting
@testable import DuetServer
import Testing

@Suite struct ImpressionStoreTests {
    @Test func findsUntilTheTTLThenSaysExpired() {
        let store = ImpressionStore<Int>(capacity: 100, ttl: .seconds(10), stripes: 1)
        let t0 = ContinuousClock.now
        let a = store.insert(1, now: t0)
        guard case .found(1) = store.lookup(a, now: t0 + .seconds(5)) else { Issue.record("not found"); return }
        guard case .expired = store.lookup(a, now: t0 + .seconds(11)) else { Issue.record("not expired"); return }
        guard case .unknown = store.lookup("b", now: t0) else { Issue.record("not unknown"); return }
    }

    @Test func sweepFreesExpiredImpressionsAndTheirBytes() {
        final class Payload: Sendable { let n: Int; init(_ n: Int) { self.n = n } }
        let store = ImpressionStore<Payload>(capacity: 100, ttl: .seconds(10), stripes: 4, size: { 100 + $0.n })
        let t0 = ContinuousClock.now
        var ids: [String] = []
        for i in 0..<10 { ids.append(store.insert(Payload(i), now: t0)) }
        for i in 10..<15 { ids.append(store.insert(Payload(i), now: t0 + .seconds(8))) }
        #expect(store.entries == 15 && store.bytes == 15 * 100 + (0..<15).reduce(0, +))
        weak var first: Payload?
        if case .found(let p) = store.lookup(ids[0], now: t0) { first = p }
        #expect(store.sweep(now: t0 + .seconds(11)) == 10)
        #expect(store.entries == 5 && store.bytes == 5 * 100 + (10..<15).reduce(0, +))
        #expect(first == nil, "a swept impression is released")
        guard case .expired = store.lookup(ids[0], now: t0 + .seconds(11)) else { Issue.record("swept but found"); return }
        guard case .found = store.lookup(ids[14], now: t0 + .seconds(11)) else { Issue.record("a live one was swept"); return }
        // Overwriting keeps the books right too.
        let small = ImpressionStore<Payload>(capacity: 2, ttl: .seconds(60), size: { _ in 7 })
        for i in 0..<5 { _ = small.insert(Payload(i)) }
        #expect(small.entries == 2 && small.bytes == 14)
    }

    @Test func staysWithinCapacityOverwritingTheOldest() {
        let store = ImpressionStore<Int>(capacity: 10, ttl: .seconds(60), stripes: 3)
        let ids = (0..<25).map { store.insert($0) }
        #expect(store.count() == 10)
        guard case .expired = store.lookup(ids[0]) else { Issue.record("the first should be gone"); return }
        guard case .found(24) = store.lookup(ids[24]) else { Issue.record("the last is missing"); return }
        guard case .found(15) = store.lookup(ids[15]) else { Issue.record("the 10th newest is missing"); return }
    }

    @Test func idsAreUniqueUnguessableAndOnlyOurs() {
        let store = ImpressionStore<Int>(capacity: 1000, ttl: .seconds(60))
        let ids = (0..<1000).map { store.insert($0) }
        #expect(Set(ids).count == 1000)
        #expect(ids.allSatisfy { $0.utf8.count == 32 })
        // Sequential requests do not give sequential ids.
        #expect(ids[0].prefix(16) != ids[1].prefix(16) && ids[0].suffix(16) != ids[1].suffix(16))
        for n: UInt64 in [0, 1, 41, 1 << 40, .max] { #expect(store.unpermute(store.permute(n)) == n) }
        // A forged id (one digit changed), another store's id and junk are unknown, not expired.
        var forged = Array(ids[7].utf8)
        forged[31] = forged[31] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        for id in [String(decoding: forged, as: UTF8.self), ImpressionStore<Int>(capacity: 10, ttl: .seconds(1)).insert(1), "nope", ids[7].uppercased()] {
            guard case .unknown = store.lookup(id) else { Issue.record("\(id) should be unknown"); return }
        }
    }

    @Test func concurrentInsertsAndLookupsAgree() async {
        let store = ImpressionStore<Int>(capacity: 100_000, ttl: .seconds(60))
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for i in 0..<2000 {
                        let id = store.insert(i)
                        if case .found(let v) = store.lookup(id) { #expect(v == i) } else { Issue.record("lost") }
                    }
                }
            }
        }
        #expect(store.count() == 16_000)
    }
}

/// Impression copies in Redis: raw record bytes, or base64 text as replicas before raw copies wrote them.
@Suite struct ImpressionRecordStorageTests {
    @Test func rawRecordsStayAndBase64OnesAreDecoded() {
        let record: [UInt8] = [ImpressionRecord.format, 0, 0xFF, 0x80, 7]
        #expect(ImpressionRecord.unwrap(record) == record)
        #expect(ImpressionRecord.unwrap(Array("AQD/gAc=".utf8)) == record)
        // Neither a record nor base64: left for `decode` to refuse.
        #expect(ImpressionRecord.unwrap(Array("not base64!".utf8)) == Array("not base64!".utf8))
        #expect(ImpressionRecord.unwrap([]) == [])
    }

    /// Every field the join and the statistics use survives encode → decode, with names in any
    /// script, an empty user, items without features and off-policy targets.
    @Test func aRecordDecodesToTheImpressionItWasMadeFrom() throws {
        let arms = [Arm(name: "static", weight: 0.5, model: ModelReference(slot: .static)), Arm(name: "ónline", weight: 0.5, model: ModelReference(slot: .online))]
        let stats = ExperimentStats(revision: 3, arms: 2)
        let experiments = ExperimentControl.Snapshot(
            table: RouteTable(experiments: [ExperimentConfig(key: "home→page", arms: arms)]), revisions: [:], stats: ["home→page": stats])
        let f = { (i: UInt32) in Feature(index: i, value: Float(i) / 7, fieldHash: i &* 2_654_435_761) }
        for user in [[f(1), f(2), f(3)], []] {
            let features = CandidateFeatures([[f(10), f(11)], [], [f(12)]])
            let targets = [PolicyTarget(arm: 0, probability: 0.25, predicted: 0.125, expected: 0.0625, choice: "商品-7"), PolicyTarget(arm: 1, probability: 1, predicted: 0.5, expected: 0.5, choice: "")]
            let impression = Impression(
                experiment: "home→page", armIndex: 1, arm: "ónline", stats: stats, slot: .online, versionID: "17", user: user,
                ids: ["a", "商品-7", String(repeating: "x", count: 300)], scores: [0.5, -1, .ulpOfOne], features: features,
                propensities: [1, 0.5, 0.25], counted: true, targets: targets, arms: arms, userID: "u-ü", choseAmong: true)
            let bytes = ImpressionRecord.encode(impression)
            let back = try #require(ImpressionRecord.decode(bytes, experiments: experiments))
            #expect(back.experiment == "home→page" && back.armIndex == 1 && back.arm == "ónline" && back.slot == .online)
            #expect(back.versionID == "17" && back.userID == "u-ü" && back.choseAmong && back.counted && back.stats === stats)
            #expect(back.user == user && back.ids == impression.ids && back.scores == impression.scores && back.propensities == impression.propensities)
            #expect((0..<3).allSatisfy { Array(back.features[$0]) == Array(features[$0]) })
            #expect(back.targets.map(\.choice) == ["商品-7", ""] && back.targets.map(\.expected) == [0.0625, 0.5])
            // Truncated or padded, the bytes are refused.
            #expect(ImpressionRecord.decode(Array(bytes.dropLast()), experiments: experiments) == nil)
            #expect(ImpressionRecord.decode(bytes + [0], experiments: experiments) == nil)
        }
    }
}
