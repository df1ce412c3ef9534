/// A byte-level JSON reader for the request hot path: `/v1/recommend` and `/v1/feedback` bodies are
/// read straight from the request's bytes, with no intermediate tree (Foundation's JSONDecoder spent
/// about 13% of the server's CPU on a 100-candidate body). Strict RFC 8259 syntax; errors carry the
/// byte offset.
///
///     try body.withUnsafeReadableBytes { bytes in
///         var s = JSONScanner(bytes)
///         try s.beginObject()
///         while let key = try s.nextKey() { ... try s.string() ... }
///         try s.end()
///     }
struct JSONScanner {
    enum Kind { case object, array, string, number, bool, null }

    /// A syntax error at a byte offset.
    struct SyntaxError: Error, CustomStringConvertible {
        var offset: Int
        var problem: String
        var description: String { "\(problem) at byte \(offset)" }
    }

    let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0
    /// Open objects and arrays, and for each (one bit per level) whether it has had an element yet.
    private var depth = 0
    private var started: UInt64 = 0
    static let maxDepth = 64

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    func fail(_ problem: String) -> SyntaxError { SyntaxError(offset: offset, problem: problem) }

    mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x0A, 0x0D, 0x09: offset += 1
            default: return
            }
        }
    }

    /// The kind of the next value (after whitespace).
    mutating func peek() throws -> Kind {
        skipWhitespace()
        guard offset < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[offset] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        default: throw fail("unexpected character '\(Character(Unicode.Scalar(bytes[offset])))'")
        }
    }

    private mutating func expect(_ byte: UInt8) throws {
        skipWhitespace()
        guard offset < bytes.count, bytes[offset] == byte else {
            throw fail(offset < bytes.count ? "expected '\(Character(Unicode.Scalar(byte)))'" : "unexpected end of input")
        }
        offset += 1
    }

    mutating func beginObject() throws {
        try open(UInt8(ascii: "{"))
    }

    private mutating func open(_ bracket: UInt8) throws {
        guard depth < Self.maxDepth else { throw fail("nested deeper than \(Self.maxDepth)") }
        try expect(bracket)
        started &= ~(1 << UInt64(depth))
        depth += 1
    }

    /// Before every element but the first of the open object or array: a comma.
    private mutating func separator() throws {
        let bit: UInt64 = 1 << UInt64(depth - 1)
        if started & bit != 0 { try expect(UInt8(ascii: ",")) } else { started |= bit }
    }

    /// The next key of the open object, or nil at its closing brace (which is consumed).
    mutating func nextKey() throws -> String? {
        skipWhitespace()
        guard offset < bytes.count else { throw fail("unexpected end of input") }
        if bytes[offset] == UInt8(ascii: "}") {
            offset += 1
            depth -= 1
            return nil
        }
        try separator()
        skipWhitespace()
        guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
        let key = try string()
        try expect(UInt8(ascii: ":"))
        return key
    }

    mutating func beginArray() throws {
        try open(UInt8(ascii: "["))
    }

    /// Whether the open array has another element (false at its closing bracket, which is consumed).
    mutating func nextElement() throws -> Bool {
        skipWhitespace()
        guard offset < bytes.count else { throw fail("unexpected end of input") }
        if bytes[offset] == UInt8(ascii: "]") {
            offset += 1
            depth -= 1
            return false
        }
        try separator()
        return true
    }

    /// A string value; escapes decoded, control characters refused.
    mutating func string() throws -> String {
        try expect(UInt8(ascii: "\""))
        let start = offset
        // Fast path: no escapes.
        while offset < bytes.count {
            let b = bytes[offset]
            if b == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
                offset += 1
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw fail("control character in a string") }
            offset += 1
        }
        var out = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<offset]))
        while offset < bytes.count {
            let b = bytes[offset]
            offset += 1
            switch b {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard offset < bytes.count else { throw fail("unexpected end of input") }
                let e = bytes[offset]
                offset += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") else {
                            throw fail("lone surrogate in \\u escape")
                        }
                        offset += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail("invalid surrogate pair in \\u escape") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw fail("lone surrogate in \\u escape")
                    }
                    out.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
                default:
                    throw fail("invalid escape '\\\(Character(Unicode.Scalar(e)))'")
                }
            default:
                if b < 0x20 { throw fail("control character in a string") }
                out.append(b)
            }
        }
        throw fail("unterminated string")
    }

    private mutating func hex4() throws -> UInt32 {
        guard offset + 4 <= bytes.count else { throw fail("unexpected end of input") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[offset]
            let d: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
            default: throw fail("invalid \\u escape")
            }
            v = v << 4 | UInt32(d)
            offset += 1
        }
        return v
    }

    /// A number value (JSON grammar checked); out-of-range magnitudes become ±infinity.
    mutating func number() throws -> Double {
        skipWhitespace()
        let start = offset
        var integer: Int64 = 0
        var simple = true  // only digits, at most 15 of them: exact in an Int64 and a Double
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "-") { offset += 1 }
        let digitsStart = offset
        while offset < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) {
            integer = integer &* 10 &+ Int64(bytes[offset] - UInt8(ascii: "0"))
            offset += 1
        }
        let intDigits = offset - digitsStart
        guard intDigits > 0 else { throw fail("invalid number") }
        if intDigits > 1 && bytes[digitsStart] == UInt8(ascii: "0") { throw fail("leading zero in a number") }
        if intDigits > 15 { simple = false }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            simple = false
            offset += 1
            let f = offset
            while offset < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) { offset += 1 }
            guard offset > f else { throw fail("invalid number") }
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E") {
            simple = false
            offset += 1
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") { offset += 1 }
            let e = offset
            while offset < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) { offset += 1 }
            guard offset > e else { throw fail("invalid number") }
        }
        if simple {
            let v = Double(integer)
            return bytes[start] == UInt8(ascii: "-") ? -v : v
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
        guard let v = Double(text) else { throw fail("invalid number") }
        return v
    }

    mutating func bool() throws -> Bool {
        skipWhitespace()
        if literal("true") { return true }
        if literal("false") { return false }
        throw fail("invalid literal")
    }

    /// Consumes `null` if it is next.
    mutating func null() -> Bool {
        skipWhitespace()
        return literal("null")
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard offset + n <= bytes.count else { return false }
        let p = word.utf8Start
        for j in 0..<n where bytes[offset + j] != p[j] { return false }
        offset += n
        return true
    }

    /// Skips one value of any kind, checking its syntax.
    mutating func skipValue() throws {
        switch try peek() {
        case .object:
            try beginObject()
            while try nextKey() != nil { try skipValue() }
        case .array:
            try beginArray()
            while try nextElement() { try skipValue() }
        case .string: _ = try string()
        case .number: _ = try number()
        case .bool: _ = try bool()
        case .null: guard null() else { throw fail("invalid literal") }
        }
    }

    /// Checks that only whitespace follows the top-level value.
    mutating func end() throws {
        skipWhitespace()
        guard offset == bytes.count else { throw fail("unexpected data after the JSON value") }
    }
}
