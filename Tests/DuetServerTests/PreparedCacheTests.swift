import DuetFeatures
import DuetModels
@testable import DuetServer
import Testing

@Suite struct PreparedCacheTests {
    let config = ModelConfig()
    typealias Cache = PreparedCache<PreparedCandidate>

    func item(_ id: String) -> PreparedCandidate {
        PreparedCandidate(id: id, row: FeatureRow(id: id, values: ["item_feature_1": .string("a")], found: true), hasher: config.hasher)
    }

    @Test func preparedCandidatesAreTheNamingLayersFeatures() {
        let values: [String: FieldValue] = ["item_feature_0": .float(0.5), "item_feature_1": .string("ab"), "item_feature_2": .string("")]
        let item = PreparedCandidate(id: "7", row: FeatureRow(id: "7", values: values, found: true), hasher: config.hasher)
        let named = FeatureNaming.candidateFeatures(itemID: "7", item: ["item_feature_0": .number(0.5), "item_feature_1": .string("ab"), "item_feature_2": .string("")])
        #expect(Set(item.named) == Set(named))
        #expect(Set(item.hashed) == Set(config.hasher.hash(named)))
    }

    @Test func keptPerVersionAndShape() {
        let cache = Cache()
        let v1 = Cache.Generation(set: "items", version: "v1", config: config)
        cache.keep([("1", item("1")), ("2", item("2"))], in: v1)
        #expect(cache.cached(["1", "2", "3"], in: v1).map { $0?.id } == ["1", "2", nil])
        #expect(cache.cached("1", in: Cache.Generation(set: "items", version: "v2", config: config)) == nil)
        var other = config
        other.bits = 18
        #expect(cache.cached("1", in: Cache.Generation(set: "items", version: "v1", config: other)) == nil)
        #expect(cache.hits.load(ordering: .relaxed) == 2 && cache.misses.load(ordering: .relaxed) == 3)
    }

    @Test func boundedInEntriesAndGenerations() {
        let cache = Cache(capacity: 10)
        let v1 = Cache.Generation(set: "items", version: "v1", config: config)
        cache.keep((0..<25).map { ("\($0)", item("\($0)")) }, in: v1)
        #expect(cache.cached((0..<25).map { "\($0)" }, in: v1).compactMap { $0 }.count <= 10)
        for v in 2...6 { cache.keep([("1", item("1"))], in: Cache.Generation(set: "items", version: "v\(v)", config: config)) }
        #expect(cache.cached("1", in: v1) == nil)
        #expect(cache.cached("1", in: Cache.Generation(set: "items", version: "v6", config: config)) != nil)
    }
}
