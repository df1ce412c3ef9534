import DuetFeatures
import DuetModels

/// One candidate item, ready to score: the naming layer's user-independent features and their hashes.
struct PreparedCandidate: Sendable {
    let id: String
    /// The id as a number, if it is one (see `Affinities`).
    let number: Int?
    let named: [NamedFeature]
    let hashed: [Feature]

    init(id: String, row: FeatureRow?, hasher: FeatureHasher) {
        self.id = id
        number = Affinities.number(id)
        named = FeatureNaming.candidateFeatures(itemID: id, item: row.map { $0.values.mapValues(\.featureValue) } ?? [:])
        hashed = named.map(hasher.hash)
    }
}
