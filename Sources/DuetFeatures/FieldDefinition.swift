/// One field of a feature set: its name, type and the default served when a value is missing.
public struct FieldDefinition: Sendable, Hashable {
    public var name: String
    public var type: FieldType
    public var defaultValue: FieldValue

    public init(name: String, type: FieldType, defaultValue: FieldValue? = nil) {
        self.name = name
        self.type = type
        switch type {
        case .string: self.defaultValue = defaultValue ?? .string("")
        case .float: self.defaultValue = defaultValue ?? .float(0)
        case .int: self.defaultValue = defaultValue ?? .int(0)
        }
    }

    /// Parses stored text, falling back to the default when it is missing or does not parse.
    @inlinable
    public func value(from text: String?) -> FieldValue {
        guard let text, let v = type.parse(text) else { return defaultValue }
        return v
    }
}
