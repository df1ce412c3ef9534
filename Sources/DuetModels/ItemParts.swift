/// One candidate's own share of its score under one model version: the linear part of its
/// user-independent features, the pairwise term among them and their factor sums. A model version
/// scores every user against the same items, so a server keeps these per item and a request pays one
/// k-length dot product per candidate instead of re-adding the item's features (see
/// `ModelVersion.score(user:parts:extras:scratch:into:)`).
///
///     let parts = version.itemParts(item.hashed)   // once per item and version
///     version.score(user: user, parts: parts.values, extras: affinities, scratch: &scratch, into: &scores)
public struct ItemParts: Sendable {
    /// The `ModelVersion.serial` these were computed with (they mean nothing under another version).
    public let version: UInt64
    /// linear, pairwise, then the k factor sums (`width(k:)` floats): one allocation per item and version.
    public let values: [Float]

    init(version: UInt64, values: [Float]) {
        self.version = version
        self.values = values
    }

    /// The number of values per item for k factors.
    public static func width(k: Int) -> Int { 2 + k }
}
