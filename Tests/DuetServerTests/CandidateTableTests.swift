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
        let (store, slots, batch) = table.lookup(["1", "2", "3", "1"], in: generation("v1"), version: nil, named: false)
        #expect(store != nil && slots == [0, 1, -1, 0] && batch == nil)
        // All found: the batch comes with the lookup.
        #expect(table.lookup(["2", "1"], in: generation("v1"), version: nil, named: false).batch?.numbers == [2, 1])
        #expect(table.lookup(["1"], in: generation("v2"), version: nil, named: false).slots == [-1])
        #expect(table.lookup(["1"], in: generation("v1", bits: 18), version: nil, named: false).slots == [-1])
        #expect(table.hits.load(ordering: .relaxed) == 5 && table.misses.load(ordering: .relaxed) == 3)
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

    /// A request with the same candidates as a recent one (the whole catalog, a fixed list) gets the
    /// same batch, per model version; other lists, orders and versions get their own, and what is kept
    /// is bounded.
    @Test func theSameCandidatesShareTheirBatchPerVersion() {
        var small = config
        small.bits = 10
        small.k = 2
        func model() -> ModelVersion {
            ModelVersion(id: "t", parentID: nil, kind: .static, examples: 0, metrics: .init(), config: small, positives: 1, seen: 2,
                         weights: WeightPages((0..<small.size).map { Float($0 % 7) / 7 }),
                         factors: WeightPages((0..<(small.size * small.k)).map { Float($0 % 5) / 10 }))
        }
        let (a, b) = (model(), model())
        let table = CandidateTable()
        let g = PreparedGeneration(set: "items", version: "v1", config: small)
        let hashed = { (id: String) in PreparedCandidate(id: id, row: nil, hasher: small.hasher) }
        let kept = table.keep(["1", "2", "3"].map(hashed), in: g)
        let first = table.lookup(["3", "1"], in: g, version: a, named: false)
        let again = table.lookup(["3", "1"], in: g, version: a, named: false)
        #expect(again.slots == [2, 0] && again.batch?.numbers == [3, 1])
        #expect(again.batch?.parts == first.batch?.parts && again.batch?.parts.count == 2 * a.itemPartsWidth)
        // The same parts as a batch made afresh, under each version.
        #expect(again.batch?.parts == table.batch(store: kept.store, slots: [2, 0], fresh: [], version: a, named: false).parts)
        let other = table.lookup(["3", "1"], in: g, version: b, named: false)
        #expect(other.batch?.parts == table.batch(store: kept.store, slots: [2, 0], fresh: [], version: b, named: false).parts)
        #expect(table.lookup(["1", "3"], in: g, version: a, named: false).batch?.numbers == [1, 3])
        #expect(table.lookup(["3", "1"], in: g, version: nil, named: true).batch?.parts.isEmpty == true)
        #expect(kept.store.recent.count == CandidateTable.recentKept)
        #expect(table.hits.load(ordering: .relaxed) == 10 && table.misses.load(ordering: .relaxed) == 0)
    }

    @Test func boundedInCandidatesAndGenerations() {
        let table = CandidateTable(capacity: 10)
        let first = table.keep((0..<6).map { item("\($0)") }, in: generation("v1"))
        // Past capacity the generation starts over in a new store; the old one stays readable.
        let second = table.keep((6..<12).map { item("\($0)") }, in: generation("v1"))
        #expect(first.store !== second.store && second.slots == Array(0..<6))
        #expect(table.lookup(["0", "6"], in: generation("v1"), version: nil, named: false).slots == [-1, 0])
        #expect(table.batch(store: first.store, slots: first.slots, fresh: [], version: nil, named: false).numbers == Array(0..<6))
        for v in 2...5 { table.keep([item("1")], in: generation("v\(v)")) }
        #expect(table.lookup(["6"], in: generation("v1"), version: nil, named: false).slots == [-1])
        #expect(table.lookup(["1"], in: generation("v5"), version: nil, named: false).slots == [0])
    }
}

@Suite struct SlotIndexTests {
    /// Slots in insertion order, found again through growth; ids of every length and script, and
    /// ids that differ only past the first 8 bytes.
    @Test func agreesWithADictionary() {
        var index = SlotIndex(capacity: 4)
        var reference: [String: Int] = [:]
        var ids = (0..<3000).map { "\($0)" }
        ids += ["", "sku-000000001", "sku-000000002", "ä", "日本語の商品", String(repeating: "x", count: 100), String(repeating: "x", count: 101)]
        // Numbers too sparse for the number array, and ids that read as numbers but are other ids.
        ids += ["123456789", "99999", "017", "00", "-1", "+5", "1.0", "999999999", "1000000000"]
        for id in ids {
            let s = index.insert(id)
            if reference[id] == nil { reference[id] = reference.count }
            #expect(s == reference[id])
        }
        #expect(index.insert("17") == 17 && index.count == reference.count)
        for (id, s) in reference { #expect(index.slot(id) == s) }
        for miss in ["3000", "sku-000000003", "a", "x", "0 ", "0017", "12345678", "99998", "01"] { #expect(index.slot(miss) == nil) }
        #expect(index.slot("017") != index.slot("17") && index.slot("00") != index.slot("0"))
        #expect(index.ids[5] == "5")
    }
}
