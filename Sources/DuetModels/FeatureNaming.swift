/// The one place where raw fields become model features, for training (`duet train`, `duet replay`)
/// and for serving (`/v1/recommend`) alike, so a model trained on logs scores served traffic with
/// the very same features.
///
/// - user fields keep their names: `user_feature_0=<hash>` (strings), numbers keep their value;
///   per-item affinity columns (`user-item_affinity_<id>`) are not used directly but give the
///   candidate's `affinity` feature;
/// - request context keeps its names (`position=1`);
/// - the candidate: `item_id=<id>`, its item fields (`item_feature_0: x`, `item_feature_1=<hash>`…),
///   and `affinity: x`, the user's affinity to this item.
public enum FeatureNaming {
    public static let affinityPrefix = "user-item_affinity_"

    /// Features that are the same for every candidate of one request: the user's and the context's.
    public static func userFeatures(user: [String: FeatureValue], context: [String: FeatureValue]) -> [NamedFeature] {
        userFeatures(fields: user, context: context)
    }

    /// The same, from any sequence of the user's fields (the server passes its feature rows without
    /// converting them to a dictionary first).
    public static func userFeatures<S: Sequence>(fields user: S, context: [String: FeatureValue]) -> [NamedFeature]
    where S.Element == (key: String, value: FeatureValue) {
        var out: [NamedFeature] = []
        out.reserveCapacity(user.underestimatedCount + context.count)
        for (name, value) in user where !name.hasPrefix(affinityPrefix) {
            if case .string(let s) = value, s.isEmpty { continue }
            out.append(NamedFeature(name, value))
        }
        for (name, value) in context {
            out.append(NamedFeature(name, value))
        }
        return out
    }

    /// Features of one candidate item for this user.
    public static func itemFeatures(itemID: String, item: [String: FeatureValue], user: [String: FeatureValue]) -> [NamedFeature] {
        var out = candidateFeatures(itemID: itemID, item: item)
        if let a = affinity(user[affinityField(itemID: itemID)]) { out.append(a) }
        return out
    }

    /// The part of a candidate's features that does not depend on the user: its id and item fields
    /// (the server prepares these once per item and feature version).
    public static func candidateFeatures(itemID: String, item: [String: FeatureValue]) -> [NamedFeature] {
        var out: [NamedFeature] = [NamedFeature("item_id", .string(itemID))]
        for (name, value) in item where name != "item_id" {
            if case .string(let s) = value, s.isEmpty { continue }
            out.append(NamedFeature(name, value))
        }
        return out
    }

    /// The user field holding the user's affinity to `itemID`.
    public static func affinityField(itemID: String) -> String { affinityPrefix + itemID }

    /// Item id → the `affinity` feature of that candidate for this user, from all of the user's fields
    /// (what `itemFeatures` would add for each item).
    public static func affinities<S: Sequence>(fields user: S) -> [String: NamedFeature] where S.Element == (key: String, value: FeatureValue) {
        var out: [String: NamedFeature] = [:]
        for (name, value) in user where name.hasPrefix(affinityPrefix) {
            if let a = affinity(value) { out[String(name.dropFirst(affinityPrefix.count))] = a }
        }
        return out
    }

    /// The candidate's `affinity` feature from the user's affinity field, if that is a number.
    public static func affinity(_ value: FeatureValue?) -> NamedFeature? {
        if case .number(let a)? = value { return NamedFeature("affinity", .number(a)) }
        return nil
    }

    /// Every feature of one (user, context, item) example, as a log row yields it.
    public static func example(user: [String: FeatureValue], context: [String: FeatureValue], itemID: String, item: [String: FeatureValue]) -> [NamedFeature] {
        userFeatures(user: user, context: context) + itemFeatures(itemID: itemID, item: item, user: user)
    }
}
