/// A Redis reply, copied out of hiredis's reply object.
public enum RedisValue: Sendable, Hashable {
    case string(String)
    case status(String)
    case integer(Int)
    case array([RedisValue])
    case null
    case error(String)

    /// The reply as text (bulk or status string), else nil.
    public var text: String? {
        switch self {
        case .string(let s), .status(let s): return s
        case .integer(let i): return String(i)
        default: return nil
        }
    }

    /// The reply as an integer (an integer reply or a numeric string), else nil.
    public var integer: Int? {
        switch self {
        case .integer(let i): return i
        case .string(let s): return Int(s)
        default: return nil
        }
    }

    /// The elements of an array reply (else empty).
    public var array: [RedisValue] {
        if case .array(let a) = self { return a }
        return []
    }
}
