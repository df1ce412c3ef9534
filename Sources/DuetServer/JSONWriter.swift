import NIOCore

/// Writes JSON straight into a `ByteBuffer`, for responses on the request hot path (Foundation's
/// JSONEncoder cost more than scoring 100 candidates). The caller lays out objects with `key` and
/// the value writers; commas are the caller's too (`comma()`), which keeps this free of state.
///
///     var w = JSONWriter(capacity: 256)
///     w.raw("{"); w.key("id"); w.string(id); w.comma(); w.key("score"); w.number(0.5); w.raw("}")
struct JSONWriter {
    private(set) var buffer: ByteBuffer

    init(capacity: Int) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    mutating func raw(_ s: StaticString) {
        buffer.writeStaticString(s)
    }

    mutating func comma() {
        buffer.writeInteger(UInt8(ascii: ","))
    }

    /// `"name":` (names are written as given: callers pass plain ASCII names).
    mutating func key(_ name: StaticString) {
        buffer.writeInteger(UInt8(ascii: "\""))
        buffer.writeStaticString(name)
        buffer.writeStaticString("\":")
    }

    /// A string, escaped per RFC 8259 (`"`, `\` and control characters; `/` is left as is).
    mutating func string(_ s: String) {
        buffer.writeInteger(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            var start = 0
            for (i, b) in utf8.enumerated() where b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b < 0x20 {
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[start..<i]))
                switch b {
                case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case 0x0A: buffer.writeStaticString("\\n")
                case 0x0D: buffer.writeStaticString("\\r")
                case 0x09: buffer.writeStaticString("\\t")
                default:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    buffer.writeStaticString("\\u00")
                    buffer.writeInteger(hex[Int(b >> 4)])
                    buffer.writeInteger(hex[Int(b & 15)])
                }
                start = i + 1
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[start...]))
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    /// A finite number in its shortest round-trip form (non-finite values, which JSON cannot carry, as null).
    mutating func number(_ x: Float) {
        guard x.isFinite else { raw("null"); return }
        buffer.writeString(x.description)
    }

    mutating func number(_ x: Double) {
        guard x.isFinite else { raw("null"); return }
        buffer.writeString(x.description)
    }

    mutating func bool(_ b: Bool) {
        if b { raw("true") } else { raw("false") }
    }
}
