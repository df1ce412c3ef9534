import DuetFeatures
import DuetModels
@testable import DuetServer
import Testing

@Suite struct CandidateTableTests {
    let config = ModelConfig()

    func item(_ id: String) -> PreparedCandidate {
        PreparedCandidate(id: id, row: FeatureRow(id: id, values: ["item_feature_1": .string("a" + id)], found: true), hasher: config.hasher)
    }

    func generation(_ version: String, bits: Int = 20) -> PreparedGeneration {
        var c = config
        c.bits = bits
        return PreparedGeneration(set: "items", version: version, config: c)
    }

    @Test func keptPerVersionAndShape() {
        let table = CandidateTable()
        table.keep([item("1"), item("2")], in: generation("v1"))
        let (store, slots) = table.lookup(["1", "2", "3", "1"], in: generation("v1"))
        #expect(store != nil && slots == [0, 1, -1, 0])
        #expect(table.lookup(["1"], in: generation("v2")).slots == [-1])
        #expect(table.lookup(["1"], in: generation("v1", bits: 18)).slots == [-1])
        #expect(table.hits.load(ordering: .relaxed) == 3 && table.misses.load(ordering: .relaxed) == 3)
        // Keeping a known id again gives its slot, not a second one.
        #expect(table.keep([item("2"), item("3")], in: generation("v1")).slots == [1, 2])
    }

    /// A batch holds each candidate's hashed features and number, from the store or fresh, in order.
    @Test func batchesCopyTheStoreAndFreshInOrder() {
        let table = CandidateTable()
        let kept = table.keep([item("10"), item("x")], in: generation("v1"))
        let batch = table.batch(store: kept.store, slots: [kept.slots[1], -1, kept.slots[0]], fresh: [item("7")], version: nil, named: true)
        #expect(batch.numbers == [-1, 7, 10])
        #expect(batch.own.count == 3 && batch.parts.isEmpty)
        #expect(Array(batch.own[0]) == item("x").hashed && Array(batch.own[1]) == item("7").hashed && Array(batch.own[2]) == item("10").hashed)
        #expect(batch.named.map(\.count) == [item("x").named.count, item("7").named.count, item("10").named.count])
    }

    @Test func boundedInCandidatesAndGenerations() {
        let table = CandidateTable(capacity: 10)
        let first = table.keep((0..<6).map { item("\($0)") }, in: generation("v1"))
        // Past capacity the generation starts over in a new store; the old one stays readable.
        let second = table.keep((6..<12).map { item("\($0)") }, in: generation("v1"))
        #expect(first.store !== second.store && second.slots == Array(0..<6))
        #expect(table.lookup(["0", "6"], in: generation("v1")).slots == [-1, 0])
        #expect(table.batch(store: first.store, slots: first.slots, fresh: [], version: nil, named: false).numbers == Array(0..<6))
        for v in 2...5 { table.keep([item("1")], in: generation("v\(v)")) }
        #expect(table.lookup(["6"], in: generation("v1")).slots == [-1])
        #expect(table.lookup(["1"], in: generation("v5")).slots == [0])
    }
}
