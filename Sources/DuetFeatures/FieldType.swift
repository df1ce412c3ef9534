/// The type of a feature field: how its stored text is parsed.
public enum FieldType: String, Sendable, Hashable, CaseIterable {
    case string, float, int

    /// Parses stored text into a value of this type; nil when it does not parse (or is not finite).
    public func parse(_ text: String) -> FieldValue? {
        switch self {
        case .string: return .string(text)
        case .float:
            guard let v = Double(text), v.isFinite else { return nil }
            return .float(v)
        case .int:
            guard let v = Int(text) else { return nil }
            return .int(v)
        }
    }
}
