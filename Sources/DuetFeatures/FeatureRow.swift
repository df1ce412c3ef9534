/// The features of one entity at one version.
public struct FeatureRow: Sendable, Hashable {
    /// The entity id (a user or item id).
    public var id: String
    /// Every field of the set: the stored value, or the field's default when it was missing.
    public var values: [String: FieldValue]
    /// False when the entity has no row at this version (all values are defaults).
    public var found: Bool

    public init(id: String, values: [String: FieldValue], found: Bool) {
        self.id = id
        self.values = values
        self.found = found
    }
}
