/// A raw feature value before hashing: a category (`"genre": "Comedy"` → `genre=Comedy`, value 1)
/// or a number (`"age": 0.37` keeps its value).
public enum FeatureValue: Sendable, Hashable {
    case string(String)
    case number(Double)
}

/// A named raw feature, as the naming layer produces it.
public struct NamedFeature: Sendable, Hashable {
    public var field: String
    public var value: FeatureValue

    public init(_ field: String, _ value: FeatureValue) {
        self.field = field
        self.value = value
    }
}

/// A hashed feature: a slot in the model's weight space and its value.
public struct Feature: Sendable, Hashable {
    public var index: UInt32
    public var value: Float
    /// Hash of the field name alone (what interactions combine), kept so interactions need no rehash.
    public var fieldHash: UInt32

    public init(index: UInt32, value: Float, fieldHash: UInt32 = 0) {
        self.index = index
        self.value = value
        self.fieldHash = fieldHash
    }
}
