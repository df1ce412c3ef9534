import DuetAPI
import DuetFeatures
import DuetModels
@testable import DuetServer
import Testing

/// Serving assembles a request's features from prepared parts; they must be exactly what training
/// hashes for the same row (`FeatureNaming.example` → `FeatureHasher.hash`), interactions included.
@Suite struct RequestFeaturesTests {
    let userRow = FeatureRow(id: "u1", values: [
        "user_feature_0": .string("a1"), "user_feature_1": .string(""), "user_feature_2": .float(0.25),
        "user-item_affinity_1": .float(0.1), "user-item_affinity_2": .int(2), "user-item_affinity_3": .string("x"),
    ], found: true)
    let itemRows = [
        FeatureRow(id: "1", values: ["item_feature_0": .float(0.1), "item_feature_1": .string("c")], found: true),
        FeatureRow(id: "2", values: ["item_feature_0": .float(-3), "item_feature_1": .string("")], found: true),
        FeatureRow(id: "3", values: [:], found: false),
    ]
    let context: [String: ContextValue] = ["position": .string("2"), "hour": .number(13)]

    func sorted(_ fs: some Sequence<Feature>) -> [Feature] {
        fs.sorted { ($0.index, $0.value, $0.fieldHash) < ($1.index, $1.value, $1.fieldHash) }
    }

    /// A model with random weights, so every feature counts in the score.
    func model(_ config: ModelConfig) -> ModelVersion {
        var rng = SystemRandomNumberGenerator()
        let w = (0..<config.size).map { _ in Float.random(in: -1...1, using: &rng) }
        let v = (0..<(config.size * config.k)).map { _ in Float.random(in: -0.5...0.5, using: &rng) }
        return ModelVersion(id: "t", parentID: nil, kind: .static, examples: 0, metrics: .init(), config: config,
                            positives: 30, seen: 100, weights: WeightPages(w), factors: WeightPages(v))
    }

    /// Two candidates come from the table, one fresh (as when a request finds some prepared): each
    /// one's features are exactly training's, and its score is the model's prediction for them.
    func check(_ config: ModelConfig) {
        let hasher = config.hasher, version = model(config)
        let interacting = !hasher.interactions.isEmpty
        let prepared = PreparedUser(row: userRow, hasher: hasher)
        let items = itemRows.map { PreparedCandidate(id: $0.id, row: $0, hasher: hasher) }
        let table = CandidateTable()
        let kept = table.keep(Array(items.prefix(2)), in: PreparedGeneration(set: "items", version: "v1", config: config))
        let batch = table.batch(store: kept.store, slots: kept.slots + [-1], fresh: [items[2]], version: interacting ? nil : version, named: interacting)
        let r = RequestFeatures(user: prepared, context: context, ids: itemRows.map(\.id), batch: batch, hasher: hasher)
        var scratch = ScoringScratch(), scores: [Float] = []
        r.score(version, scratch: &scratch, into: &scores)
        let user = userRow.values.mapValues(\.featureValue)
        let ctx: [String: FeatureValue] = ["position": .string("2"), "hour": .number(13)]
        for (c, row) in itemRows.enumerated() {
            let trained = hasher.hash(FeatureNaming.example(user: user, context: ctx, itemID: row.id, item: row.values.mapValues(\.featureValue)))
            #expect(sorted(r.user + r.candidate(c)) == sorted(trained), "candidate \(row.id)")
            #expect(abs(Double(scores[c]) - version.predict(trained)) < 1e-5, "candidate \(row.id)")
        }
        // The parts computed for the first batch are kept: a second one reads the same.
        let again = table.batch(store: kept.store, slots: kept.slots, fresh: [], version: version, named: false)
        #expect(again.parts == Array(batch.parts.prefix(again.parts.count)) || interacting)
        #expect(again.parts.count == 2 * version.itemPartsWidth)
    }

    @Test func sameAsTrainingWithoutInteractions() {
        var c = ModelConfig()
        c.bits = 12
        check(c)
    }

    @Test func sameAsTrainingWithInteractions() {
        var c = ModelConfig()
        c.bits = 12
        c.interactions = [
            ["user_feature_0", "item_id"], ["position", "item_id"], ["item_id", "affinity"], ["user_feature_0", "position"],
            ["item_feature_1", "item_id"], ["hour", "hour"],
        ]
        check(c)
    }
}
