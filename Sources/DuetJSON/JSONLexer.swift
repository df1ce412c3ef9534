import Foundation

/// The byte-level JSON tokens both hand-written readers share: jsonl log lines (`JSONLineParser`,
/// for `duet replay`/`train`) and request bodies (the server's `JSONScanner`). A cursor over bytes
/// that stay owned by the caller; strings come back as spans, in the input or (when they had escapes)
/// decoded into the caller's `scratch`, so nothing is allocated per token.
///
/// - string escapes `\" \\ \/ \b \f \n \r \t \uXXXX` (surrogate pairs; a lone surrogate is an error),
///   no raw control characters, valid UTF-8 only;
/// - numbers by the JSON grammar; an integer zero is +0 (as Foundation reads `-0`); a magnitude too
///   large for a Double is ±infinity (callers decide whether that is an error);
/// - `skipValue` validates what it skips, and allows one trailing comma in an object or array, as
///   Foundation's parser does.
public struct JSONLexer {
    /// Bytes of a string: in the input, or in `scratch` when it had escapes.
    public struct Span: Sendable {
        public var start: Int32 = 0
        public var count: Int32 = 0
        public var inScratch = false
        public var ascii = true
        public init() {}
        init(start: Int, count: Int, inScratch: Bool, ascii: Bool) {
            self.start = Int32(start)
            self.count = Int32(count)
            self.inScratch = inScratch
            self.ascii = ascii
        }
    }

    public let p: UnsafeRawPointer
    /// The input's length, and the cursor.
    public let end: Int
    public var i = 0
    public static let maxDepth = 512

    public init(_ bytes: UnsafeRawBufferPointer) {
        p = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        end = bytes.count
    }

    /// The byte at `j` (which must be < `end`).
    @inline(__always) public func byte(_ j: Int) -> UInt8 { p.load(fromByteOffset: j, as: UInt8.self) }

    /// The byte at the cursor, if any.
    @inline(__always) public var current: UInt8? { i < end ? byte(i) : nil }

    /// The bytes of a span, in the input or in `scratch`.
    @inline(__always)
    public func bytes(_ s: Span, scratch: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        s.inScratch
            ? UnsafeRawBufferPointer(rebasing: scratch[Int(s.start)..<Int(s.start + s.count)])
            : UnsafeRawBufferPointer(start: p + Int(s.start), count: Int(s.count))
    }

    @inline(__always)
    public mutating func skipSpace() {
        while i < end {
            let c = byte(i)
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            i += 1
        }
    }

    /// Consumes `word` if it is next.
    public mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard end - i >= n, memcmp(p + i, word.utf8Start, n) == 0 else { return false }
        i += n
        return true
    }

    /// One step of an object's members (after its `{`).
    public enum Member {
        /// A key and its `:`; the cursor is at the value.
        case key(Span)
        /// The closing `}`, consumed.
        case end
        case malformed
    }

    /// The next member's key of the open object, or its end (one trailing comma allowed, as
    /// Foundation's parser does).
    public mutating func memberKey(scratch: inout [UInt8]) -> Member {
        skipSpace()
        guard i < end else { return .malformed }
        if byte(i) == UInt8(ascii: "}") { i += 1; return .end }
        guard let key = string(scratch: &scratch) else { return .malformed }
        skipSpace()
        guard i < end, byte(i) == UInt8(ascii: ":") else { return .malformed }
        i += 1
        skipSpace()
        return i < end ? .key(key) : .malformed
    }

    /// After a member's value: true when a `,` says another follows, false at the closing `}`
    /// (consumed), nil when malformed.
    public mutating func memberEnd() -> Bool? {
        skipSpace()
        guard i < end else { return nil }
        if byte(i) == UInt8(ascii: ",") { i += 1; return true }
        guard byte(i) == UInt8(ascii: "}") else { return nil }
        i += 1
        return false
    }

    /// Any JSON value at the cursor, validated and skipped; false when malformed.
    public mutating func skipValue(depth: Int, scratch: inout [UInt8]) -> Bool {
        guard depth <= Self.maxDepth, i < end else { return false }
        switch byte(i) {
        case UInt8(ascii: "\""):
            let mark = scratch.count
            defer { scratch.removeSubrange(mark...) }
            return string(scratch: &scratch) != nil
        case UInt8(ascii: "{"):
            i += 1
            while true {
                let mark = scratch.count
                switch memberKey(scratch: &scratch) {
                case .end: return true
                case .malformed: return false
                case .key: scratch.removeSubrange(mark...)
                }
                guard skipValue(depth: depth + 1, scratch: &scratch), let more = memberEnd() else { return false }
                if !more { return true }
            }
        case UInt8(ascii: "["):
            i += 1
            while true {
                skipSpace()
                guard i < end else { return false }
                if byte(i) == UInt8(ascii: "]") { i += 1; return true }
                guard skipValue(depth: depth + 1, scratch: &scratch) else { return false }
                skipSpace()
                guard i < end else { return false }
                if byte(i) == UInt8(ascii: ",") { i += 1; continue }
                guard byte(i) == UInt8(ascii: "]") else { return false }
                i += 1
                return true
            }
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default: return number() != nil
        }
    }

    /// `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?` as a Double (±infinity past its range); nil
    /// when the grammar is broken.
    public mutating func number() -> Double? {
        let start = i
        if i < end && byte(i) == UInt8(ascii: "-") { i += 1 }
        guard i < end, byte(i) &- 48 < 10 else { return nil }
        var integerZero = byte(i) == UInt8(ascii: "0")
        if integerZero {
            i += 1
            if i < end && byte(i) &- 48 < 10 { return nil }  // a leading zero
        } else {
            while i < end && byte(i) &- 48 < 10 { i += 1 }
        }
        if i < end && byte(i) == UInt8(ascii: ".") {
            integerZero = false
            i += 1
            let digits = i
            while i < end && byte(i) &- 48 < 10 { i += 1 }
            guard i > digits else { return nil }
        }
        if i < end && byte(i) | 0x20 == UInt8(ascii: "e") {
            integerZero = false
            i += 1
            if i < end && (byte(i) == UInt8(ascii: "+") || byte(i) == UInt8(ascii: "-")) { i += 1 }
            let digits = i
            while i < end && byte(i) &- 48 < 10 { i += 1 }
            guard i > digits else { return nil }
        }
        // Foundation stores an integer as Int: "-0" is +0.
        if integerZero { return 0 }
        let text = UnsafeRawBufferPointer(start: p + start, count: i - start)
        if let x = ByteNumber.double(text) { return x }
        // Only a magnitude out of range is left (the grammar held).
        return text.first == UInt8(ascii: "-") ? -.infinity : .infinity
    }

    /// A string at the cursor (which is at its opening quote); nil when malformed.
    public mutating func string(scratch: inout [UInt8]) -> Span? {
        guard i < end, byte(i) == UInt8(ascii: "\"") else { return nil }
        i += 1
        let start = i
        var ascii = true
        while i < end {
            let c = byte(i)
            if c == UInt8(ascii: "\"") {
                defer { i += 1 }
                return Span(start: start, count: i - start, inScratch: false, ascii: ascii)
            }
            if c == UInt8(ascii: "\\") {
                // Decode from here on into scratch.
                let out = scratch.count
                scratch.append(contentsOf: UnsafeRawBufferPointer(start: p + start, count: i - start))
                return escapedString(scratchStart: out, ascii: ascii, scratch: &scratch)
            }
            if c < 0x20 { return nil }
            if c >= 0x80 {
                ascii = false
                guard let n = Self.utf8Sequence(p + i, end - i) else { return nil }
                i += n
            } else {
                i += 1
            }
        }
        return nil
    }

    private mutating func escapedString(scratchStart: Int, ascii: Bool, scratch: inout [UInt8]) -> Span? {
        var ascii = ascii
        while i < end {
            let c = byte(i)
            if c == UInt8(ascii: "\"") {
                i += 1
                return Span(start: scratchStart, count: scratch.count - scratchStart, inScratch: true, ascii: ascii)
            }
            if c < 0x20 { return nil }
            if c >= 0x80 {
                ascii = false
                guard let n = Self.utf8Sequence(p + i, end - i) else { return nil }
                scratch.append(contentsOf: UnsafeRawBufferPointer(start: p + i, count: n))
                i += n
                continue
            }
            guard c == UInt8(ascii: "\\") else {
                scratch.append(c)
                i += 1
                continue
            }
            i += 1
            guard i < end else { return nil }
            let e = byte(i)
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(e)
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "u"):
                guard var scalar = hex4() else { return nil }
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    // A high surrogate must be followed by \u and a low one.
                    guard end - i >= 2, byte(i) == UInt8(ascii: "\\"), byte(i + 1) == UInt8(ascii: "u") else { return nil }
                    i += 2
                    guard let low = hex4(), low >= 0xDC00 && low < 0xE000 else { return nil }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    return nil
                }
                if scalar >= 0x80 { ascii = false }
                Self.appendUTF8(scalar, to: &scratch)
            default:
                return nil
            }
        }
        return nil
    }

    private mutating func hex4() -> UInt32? {
        guard end - i >= 4 else { return nil }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = byte(i)
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - 48
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - 87
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - 55
            default: return nil
            }
            v = v << 4 | UInt32(d)
            i += 1
        }
        return v
    }

    public static func appendUTF8(_ s: UInt32, to out: inout [UInt8]) {
        if s < 0x80 {
            out.append(UInt8(s))
        } else if s < 0x800 {
            out.append(UInt8(0xC0 | s >> 6)); out.append(UInt8(0x80 | s & 0x3F))
        } else if s < 0x10000 {
            out.append(UInt8(0xE0 | s >> 12)); out.append(UInt8(0x80 | s >> 6 & 0x3F)); out.append(UInt8(0x80 | s & 0x3F))
        } else {
            out.append(UInt8(0xF0 | s >> 18)); out.append(UInt8(0x80 | s >> 12 & 0x3F))
            out.append(UInt8(0x80 | s >> 6 & 0x3F)); out.append(UInt8(0x80 | s & 0x3F))
        }
    }

    /// The length of the well-formed UTF-8 sequence at `q` (its first byte ≥ 0x80), or nil.
    public static func utf8Sequence(_ q: UnsafeRawPointer, _ available: Int) -> Int? {
        let b0 = q.load(as: UInt8.self)
        @inline(__always) func cont(_ j: Int) -> UInt8? {
            guard j < available else { return nil }
            let b = q.load(fromByteOffset: j, as: UInt8.self)
            return b & 0xC0 == 0x80 ? b : nil
        }
        switch b0 {
        case 0xC2...0xDF:
            return cont(1) != nil ? 2 : nil
        case 0xE0...0xEF:
            guard let b1 = cont(1), cont(2) != nil else { return nil }
            if b0 == 0xE0 && b1 < 0xA0 { return nil }   // overlong
            if b0 == 0xED && b1 >= 0xA0 { return nil }  // a surrogate
            return 3
        case 0xF0...0xF4:
            guard let b1 = cont(1), cont(2) != nil, cont(3) != nil else { return nil }
            if b0 == 0xF0 && b1 < 0x90 { return nil }   // overlong
            if b0 == 0xF4 && b1 >= 0x90 { return nil }  // above U+10FFFF
            return 4
        default:
            return nil
        }
    }
}
