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

    func check(_ hasher: FeatureHasher) {
        let prepared = PreparedUser(row: userRow, hasher: hasher)
        let items = itemRows.map { PreparedCandidate(id: $0.id, row: $0, hasher: hasher) }
        let r = RequestFeatures(user: prepared, context: context, items: items, hasher: hasher)
        let user = userRow.values.mapValues(DuetRuntime.featureValue)
        let ctx: [String: FeatureValue] = ["position": .string("2"), "hour": .number(13)]
        for (c, row) in itemRows.enumerated() {
            let trained = hasher.hash(FeatureNaming.example(user: user, context: ctx, itemID: row.id, item: row.values.mapValues(DuetRuntime.featureValue)))
            #expect(sorted(r.user + r.candidate(c)) == sorted(trained), "candidate \(row.id)")
        }
    }

    @Test func sameAsTrainingWithoutInteractions() {
        check(FeatureHasher(bits: 20))
    }

    @Test func sameAsTrainingWithInteractions() {
        check(FeatureHasher(bits: 18, interactions: [
            ("user_feature_0", "item_id"), ("position", "item_id"), ("item_id", "affinity"), ("user_feature_0", "position"),
            ("item_feature_1", "item_id"), ("hour", "hour"),
        ]))
    }
}
