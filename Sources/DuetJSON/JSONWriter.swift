/// Writes JSON into a byte array (the server hands it over as one `ByteBuffer`), for responses on the request hot
/// path (Foundation's JSONEncoder cost more than scoring 100 candidates). The caller lays out objects
/// with `key` and the value writers; commas are the caller's too (`comma()`), which keeps this free of
/// state.
///
///     var w = JSONWriter(capacity: 256)
///     w.raw("{"); w.key("id"); w.string(id); w.comma(); w.key("score"); w.number(0.5); w.raw("}")
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    public mutating func raw(_ s: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    public mutating func comma() {
        bytes.append(UInt8(ascii: ","))
    }

    /// `"name":` (names are written as given: callers pass plain ASCII names).
    public mutating func key(_ name: StaticString) {
        bytes.append(UInt8(ascii: "\""))
        raw(name)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// A string, escaped per RFC 8259 (`"`, `\` and control characters; `/` is left as is).
    public mutating func string(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        // Most strings (ids, names) need no escape: one check and one copy of their bytes.
        let plain: Bool? = s.utf8.withContiguousStorageIfAvailable { utf8 in
            guard utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) else { return false }
            bytes.append(contentsOf: utf8)
            bytes.append(UInt8(ascii: "\""))
            return true
        }
        if plain == true { return }
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\\")); bytes.append(b)
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(b)
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0..<0x20:
                let hex: StaticString = "0123456789abcdef"
                raw("\\u00")
                bytes.append(hex.utf8Start[Int(b >> 4)])
                bytes.append(hex.utf8Start[Int(b & 15)])
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A finite number in its shortest round-trip form (non-finite values, which JSON cannot carry, as null).
    public mutating func number(_ x: Float) {
        guard x.isFinite else { raw("null"); return }
        bytes.append(contentsOf: x.description.utf8)
    }

    public mutating func number(_ x: Double) {
        guard x.isFinite else { raw("null"); return }
        // Small whole numbers (a greedy arm's propensity 1, every item of every answer) as `description`
        // writes them ("1.0"), without its shortest-digits search.
        if x == x.rounded(.towardZero), abs(x) < 1e6, x != 0 || x.sign == .plus {
            var n = Int(x)
            if n < 0 { bytes.append(UInt8(ascii: "-")); n = -n }
            var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0)
            let count = withUnsafeMutableBytes(of: &digits) { d -> Int in
                var i = 0
                repeat { d[i] = UInt8(ascii: "0") + UInt8(n % 10); n /= 10; i += 1 } while n > 0
                return i
            }
            withUnsafeBytes(of: digits) { d in for i in stride(from: count - 1, through: 0, by: -1) { bytes.append(d[i]) } }
            raw(".0")
            return
        }
        bytes.append(contentsOf: x.description.utf8)
    }

    public mutating func bool(_ b: Bool) {
        if b { raw("true") } else { raw("false") }
    }
}
