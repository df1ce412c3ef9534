import DuetFeatures
import DuetModels
@testable import DuetServer
import Testing

@Suite struct CandidateCacheTests {
    let config = ModelConfig()
    var hasher: FeatureHasher { config.hasher }

    func read(version: String, degraded: Bool = false, _ rows: [(String, [String: FieldValue], Bool)]) -> FeatureReadResult {
        FeatureReadResult(set: "items", version: version, rows: rows.map { FeatureRow(id: $0.0, values: $0.1, found: $0.2) }, degraded: degraded, cacheHits: 0)
    }

    @Test func preparedItemsAreTheNamingLayersFeatures() {
        let cache = CandidateCache()
        let values: [String: FieldValue] = ["item_feature_0": .float(0.5), "item_feature_1": .string("ab"), "item_feature_2": .string("")]
        let item = cache.prepare(ids: ["7"], read: read(version: "v1", [("7", values, true)]), config: config, hasher: hasher)[0]
        let named = FeatureNaming.candidateFeatures(itemID: "7", item: ["item_feature_0": .number(0.5), "item_feature_1": .string("ab"), "item_feature_2": .string("")])
        #expect(Set(item.named) == Set(named))
        #expect(Set(item.hashed) == Set(hasher.hash(named)))
        #expect(item.affinityField == "user-item_affinity_7")
    }

    @Test func keptPerVersionAndNotFromDegradedReads() {
        let cache = CandidateCache()
        _ = cache.prepare(ids: ["1", "2"], read: read(version: "v1", [("1", [:], true), ("2", [:], false)]), config: config, hasher: hasher)
        #expect(cache.cached(ids: ["1", "2", "3"], set: "items", version: "v1", config: config).map { $0 != nil } == [true, true, false])
        #expect(cache.cached(ids: ["1"], set: "items", version: "v2", config: config).map { $0 == nil } == [true])
        var other = config
        other.bits = 18
        #expect(cache.cached(ids: ["1"], set: "items", version: "v1", config: other).map { $0 == nil } == [true])
        _ = cache.prepare(ids: ["9"], read: read(version: "v1", degraded: true, [("9", [:], false)]), config: config, hasher: hasher)
        #expect(cache.cached(ids: ["9"], set: "items", version: "v1", config: config).map { $0 == nil } == [true])
    }
}
