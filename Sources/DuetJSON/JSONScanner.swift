/// A pull reader of request bodies for the hot path: `/v1/recommend` and `/v1/feedback` are read
/// straight from the request's bytes, with no intermediate tree (Foundation's JSONDecoder spent about
/// 13% of the server's CPU on a 100-candidate body). Tokens come from `JSONLexer`, shared with the
/// jsonl log reader; this adds the walk through objects and arrays (strict: no trailing commas at the
/// levels it walks) and errors that carry the byte offset.
///
///     try body.withUnsafeReadableBytes { bytes in
///         var s = JSONScanner(bytes)
///         try s.beginObject()
///         while let key = try s.nextKey() { ... try s.string() ... }
///         try s.end()
///     }
public struct JSONScanner {
    public enum Kind { case object, array, string, number, bool, null }

    /// A syntax error at a byte offset.
    public struct SyntaxError: Error, CustomStringConvertible, Sendable {
        public var offset: Int
        public var problem: String
        public var description: String { "\(problem) at byte \(offset)" }
    }

    private var lex: JSONLexer
    /// Decoded strings with escapes land here (reused).
    private var scratch: [UInt8] = []
    /// Open objects and arrays, and for each (one bit per level) whether it has had an element yet.
    private var depth = 0
    private var started: UInt64 = 0
    public static let maxDepth = 64

    public init(_ bytes: UnsafeRawBufferPointer) {
        lex = JSONLexer(bytes)
    }

    public var offset: Int { lex.i }

    public func fail(_ problem: String) -> SyntaxError { SyntaxError(offset: lex.i, problem: problem) }

    /// The kind of the next value (after whitespace).
    public mutating func peek() throws -> Kind {
        lex.skipSpace()
        guard let c = lex.current else { throw fail("unexpected end of input") }
        switch c {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        default: throw fail("unexpected character '\(Character(Unicode.Scalar(c)))'")
        }
    }

    private mutating func expect(_ byte: UInt8) throws {
        lex.skipSpace()
        guard let c = lex.current else { throw fail("unexpected end of input") }
        guard c == byte else { throw fail("expected '\(Character(Unicode.Scalar(byte)))'") }
        lex.i += 1
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

    public mutating func beginObject() throws {
        try open(UInt8(ascii: "{"))
    }

    /// The next key of the open object, or nil at its closing brace (which is consumed).
    public mutating func nextKey() throws -> String? {
        lex.skipSpace()
        guard let c = lex.current else { throw fail("unexpected end of input") }
        if c == UInt8(ascii: "}") {
            lex.i += 1
            depth -= 1
            return nil
        }
        try separator()
        lex.skipSpace()
        guard lex.current == UInt8(ascii: "\"") else { throw fail("expected a string key") }
        let key = try string()
        try expect(UInt8(ascii: ":"))
        return key
    }

    public mutating func beginArray() throws {
        try open(UInt8(ascii: "["))
    }

    /// Whether the open array has another element (false at its closing bracket, which is consumed).
    public mutating func nextElement() throws -> Bool {
        lex.skipSpace()
        guard let c = lex.current else { throw fail("unexpected end of input") }
        if c == UInt8(ascii: "]") {
            lex.i += 1
            depth -= 1
            return false
        }
        try separator()
        return true
    }

    /// A string value, escapes decoded.
    public mutating func string() throws -> String {
        lex.skipSpace()
        guard let span = lex.string(scratch: &scratch) else {
            throw fail("invalid string (bad escape, control character, invalid UTF-8 or no closing quote)")
        }
        guard span.inScratch else {
            // Unescaped: straight from the body (the usual case; no scratch to clear).
            return String(decoding: lex.bytes(span, scratch: UnsafeRawBufferPointer(start: nil, count: 0)), as: UTF8.self)
        }
        let s = scratch.withUnsafeBytes { String(decoding: lex.bytes(span, scratch: $0), as: UTF8.self) }
        scratch.removeAll(keepingCapacity: true)
        return s
    }

    /// A number value; out-of-range magnitudes are ±infinity (callers that need finite numbers say so by field).
    public mutating func number() throws -> Double {
        lex.skipSpace()
        guard let x = lex.number() else { throw fail("invalid number") }
        return x
    }

    public mutating func bool() throws -> Bool {
        lex.skipSpace()
        if lex.literal("true") { return true }
        if lex.literal("false") { return false }
        throw fail("invalid literal")
    }

    /// Consumes `null` if it is next.
    public mutating func null() -> Bool {
        lex.skipSpace()
        return lex.literal("null")
    }

    /// Skips one value of any kind, checking its syntax.
    public mutating func skipValue() throws {
        lex.skipSpace()
        guard lex.skipValue(depth: depth + 1, scratch: &scratch) else { throw fail("invalid value") }
        scratch.removeAll(keepingCapacity: true)
    }

    /// Checks that only whitespace follows the top-level value.
    public mutating func end() throws {
        lex.skipSpace()
        guard lex.i == lex.end else { throw fail("unexpected data after the JSON value") }
    }
}
