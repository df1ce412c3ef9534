import DuetFeatures
import DuetModels

/// One user's features, ready to score: the naming layer's user features (without the request's
/// context) and their hashes, and the user's affinity feature per item id.
final class PreparedUser: Sendable {
    let named: [NamedFeature]
    let hashed: [Feature]
    /// Item id → the candidate's `affinity` feature for this user, hashed (read per candidate: a
    /// plain value, nothing to retain). 16 to 30 bytes per affinity field.
    let affinity: Affinities

    init(row: FeatureRow?, hasher: FeatureHasher) {
        let fields = (row?.values ?? [:]).lazy.map { (key: $0.key, value: $0.value.featureValue) }
        named = FeatureNaming.userFeatures(fields: fields, context: [:])
        hashed = named.map(hasher.hash)
        affinity = Affinities(FeatureNaming.affinities(fields: fields).mapValues(hasher.hash))
    }
}
