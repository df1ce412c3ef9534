/// One feature value, typed as its field's definition says.
public enum FieldValue: Sendable, Hashable, CustomStringConvertible {
    case string(String)
    case float(Double)
    case int(Int)

    /// The value as a number (strings: nil).
    public var number: Double? {
        switch self {
        case .float(let v): return v
        case .int(let v): return Double(v)
        case .string: return nil
        }
    }

    /// The value as Redis and the snapshot files store it.
    public var description: String {
        switch self {
        case .string(let s): return s
        case .float(let v): return v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
        case .int(let v): return String(v)
        }
    }
}
