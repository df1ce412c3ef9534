/// Decimal numbers parsed from raw bytes with the result of `Double(String)` (correctly rounded),
/// without building a String for the common short forms.
public enum ByteNumber {
    public static let exactPowers: [Double] = (0...22).map { e in (0..<e).reduce(1.0) { acc, _ in acc * 10 } }

    /// `Double(String(decoding: bytes, as: UTF8.self))`, exactly. Plain decimals of at most 19
    /// digits whose value fits in 53 bits, scaled by 10^±22 at most, take the exact path (one IEEE
    /// multiplication or division of two exact values is correctly rounded); anything else is
    /// handed to the standard library.
    public static func double(_ bytes: UnsafeRawBufferPointer) -> Double? {
        if let x = fastDouble(bytes) { return x }
        return Double(String(decoding: bytes, as: UTF8.self))
    }

    /// The exact path, or nil when the bytes are not a short plain decimal `-?D+(.D+)?([eE][+-]?D+)?`.
    @inline(__always)
    public static func fastDouble(_ bytes: UnsafeRawBufferPointer) -> Double? {
        let count = bytes.count
        guard count > 0, count <= 40 else { return nil }
        var i = 0
        let negative = bytes[0] == UInt8(ascii: "-")
        if negative { i = 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var scale = 0
        let intStart = i
        while i < count, bytes[i] &- 48 < 10 {
            mantissa = mantissa &* 10 &+ UInt64(bytes[i] &- 48)
            i += 1
        }
        digits = i - intStart
        guard digits > 0 else { return nil }
        if i < count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            let fracStart = i
            while i < count, bytes[i] &- 48 < 10 {
                mantissa = mantissa &* 10 &+ UInt64(bytes[i] &- 48)
                i += 1
            }
            guard i > fracStart else { return nil }
            digits += i - fracStart
            scale = i - fracStart
        }
        guard digits <= 19 else { return nil }
        var exponent = 0
        if i < count, bytes[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            var expNegative = false
            if i < count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
                expNegative = bytes[i] == UInt8(ascii: "-")
                i += 1
            }
            let expStart = i
            while i < count, bytes[i] &- 48 < 10, i - expStart < 4 {
                exponent = exponent * 10 + Int(bytes[i] &- 48)
                i += 1
            }
            guard i > expStart else { return nil }
            if expNegative { exponent = -exponent }
        }
        guard i == count, mantissa <= 1 << 53 else { return nil }
        let e = exponent - scale
        guard e >= -22, e <= 22 else { return nil }
        var x = Double(mantissa)
        if e >= 0 { x *= exactPowers[e] } else { x /= exactPowers[-e] }
        return negative ? -x : x
    }
}
