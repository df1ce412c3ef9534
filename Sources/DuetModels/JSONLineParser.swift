import Foundation

/// A byte-level parser of one jsonl log line, `{"features": {NAME: VALUE, …}, "label": x, "weight"?: w}`,
/// that accepts and rejects what `JSONSerialization` (the reader before it) did:
/// - the full JSON grammar, other keys and nested values skipped but validated (depth ≤ 512);
/// - string escapes `\" \\ \/ \b \f \n \r \t \uXXXX` (surrogate pairs; a lone surrogate is an error),
///   no raw control characters, valid UTF-8 only, a leading byte-order mark;
/// - one trailing comma in an object or array, as Foundation's parser allows;
/// - a repeated key: the last value wins (for `features` and inside it);
/// - numbers: `true`/`false` count as 1/0, an integer zero is +0, a number too large for a Double
///   is an error.
///
/// Strings without escapes stay in the line; decoded ones go to `scratch`. Nothing is allocated
/// per line once the arrays have grown.
struct JSONLineParser {
    /// Bytes of a string: in the line, or in `scratch` when it had escapes.
    struct Span {
        var start: Int32 = 0
        var count: Int32 = 0
        var inScratch = false
        var ascii = true
    }

    enum Kind { case string, number, other }

    /// One member of the `features` object.
    struct Entry {
        var name: Span
        var kind: Kind
        var string: Span
        var number: Double
    }

    enum FeaturesKind { case missing, object, other }

    private(set) var entries: [Entry] = []
    private(set) var scratch: [UInt8] = []
    private(set) var features = FeaturesKind.missing
    /// The label if it is a number (or a boolean).
    private(set) var label: Double?
    /// The weight if it is a number (or a boolean).
    private(set) var weight: Double?

    private var p = UnsafeRawPointer(bitPattern: 1)!
    private var end = 0
    private var i = 0
    static let maxDepth = 512

    init() {
        entries.reserveCapacity(32)
        scratch.reserveCapacity(256)
    }

    /// Parses one line; false when it is not a well-formed JSON object.
    mutating func parse(_ line: UnsafeRawBufferPointer) -> Bool {
        entries.removeAll(keepingCapacity: true)
        scratch.removeAll(keepingCapacity: true)
        features = .missing
        label = nil
        weight = nil
        guard let base = line.baseAddress else { return false }
        p = base
        end = line.count
        i = 0
        if end >= 3, byte(0) == 0xEF, byte(1) == 0xBB, byte(2) == 0xBF { i = 3 }
        skipSpace()
        guard i < end, byte(i) == UInt8(ascii: "{") else { return false }
        i += 1
        guard topLevelMembers() else { return false }
        skipSpace()
        return i == end
    }

    /// The bytes of a span, in `line` or in `scratch`.
    @inline(__always)
    static func bytes(_ s: Span, line: UnsafeRawBufferPointer, scratch: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let from = s.inScratch ? scratch : line
        return UnsafeRawBufferPointer(rebasing: from[Int(s.start)..<Int(s.start + s.count)])
    }

    // MARK: - Grammar

    @inline(__always) private func byte(_ j: Int) -> UInt8 { p.load(fromByteOffset: j, as: UInt8.self) }

    @inline(__always)
    private mutating func skipSpace() {
        while i < end {
            let c = byte(i)
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            i += 1
        }
    }

    /// After the top-level `{`: members up to and including `}`.
    private mutating func topLevelMembers() -> Bool {
        while true {
            skipSpace()
            guard i < end else { return false }
            if byte(i) == UInt8(ascii: "}") { i += 1; return true }
            guard let key = string() else { return false }
            skipSpace()
            guard i < end, byte(i) == UInt8(ascii: ":") else { return false }
            i += 1
            skipSpace()
            guard i < end else { return false }
            switch keyName(key) {
            case 1:
                entries.removeAll(keepingCapacity: true)
                if byte(i) == UInt8(ascii: "{") {
                    i += 1
                    guard featureMembers() else { return false }
                    features = .object
                } else {
                    guard skipValue(depth: 1) else { return false }
                    features = .other
                }
            case 2:
                guard let (kind, x) = scalar(depth: 1) else { return false }
                label = kind == .number ? x : nil
            case 3:
                guard let (kind, x) = scalar(depth: 1) else { return false }
                weight = kind == .number ? x : nil
            default:
                guard skipValue(depth: 1) else { return false }
            }
            skipSpace()
            guard i < end else { return false }
            if byte(i) == UInt8(ascii: ",") { i += 1; continue }
            guard byte(i) == UInt8(ascii: "}") else { return false }
            i += 1
            return true
        }
    }

    /// 1 for `features`, 2 for `label`, 3 for `weight`, else 0.
    private func keyName(_ key: Span) -> Int {
        func which(_ b: UnsafeRawBufferPointer) -> Int {
            func equals(_ s: StaticString) -> Bool { b.count == s.utf8CodeUnitCount && memcmp(b.baseAddress!, s.utf8Start, b.count) == 0 }
            guard b.count >= 5 else { return 0 }
            return equals("features") ? 1 : equals("label") ? 2 : equals("weight") ? 3 : 0
        }
        if key.inScratch {
            return scratch.withUnsafeBytes { which(UnsafeRawBufferPointer(rebasing: $0[Int(key.start)..<Int(key.start + key.count)])) }
        }
        return which(UnsafeRawBufferPointer(start: p + Int(key.start), count: Int(key.count)))
    }

    /// After the `features` object's `{`: its members up to and including `}`.
    private mutating func featureMembers() -> Bool {
        while true {
            skipSpace()
            guard i < end else { return false }
            if byte(i) == UInt8(ascii: "}") { i += 1; return true }
            guard let name = string() else { return false }
            skipSpace()
            guard i < end, byte(i) == UInt8(ascii: ":") else { return false }
            i += 1
            skipSpace()
            guard i < end else { return false }
            if byte(i) == UInt8(ascii: "\"") {
                guard let s = string() else { return false }
                entries.append(Entry(name: name, kind: .string, string: s, number: 0))
            } else {
                guard let (kind, x) = scalar(depth: 2) else { return false }
                entries.append(Entry(name: name, kind: kind, string: Span(), number: x))
            }
            skipSpace()
            guard i < end else { return false }
            if byte(i) == UInt8(ascii: ",") { i += 1; continue }
            guard byte(i) == UInt8(ascii: "}") else { return false }
            i += 1
            return true
        }
    }

    /// A value seen as a number (numbers, `true`, `false`) or something else (validated and skipped).
    private mutating func scalar(depth: Int) -> (Kind, Double)? {
        let c = byte(i)
        if c == UInt8(ascii: "-") || c &- 48 < 10 {
            guard let x = number() else { return nil }
            return (.number, x)
        }
        if c == UInt8(ascii: "t") { return literal("true") ? (.number, 1) : nil }
        if c == UInt8(ascii: "f") { return literal("false") ? (.number, 0) : nil }
        guard skipValue(depth: depth) else { return nil }
        return (.other, 0)
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard end - i >= n, memcmp(p + i, word.utf8Start, n) == 0 else { return false }
        i += n
        return true
    }

    /// Any JSON value, validated and skipped.
    private mutating func skipValue(depth: Int) -> Bool {
        guard depth <= Self.maxDepth, i < end else { return false }
        switch byte(i) {
        case UInt8(ascii: "\""):
            return string() != nil
        case UInt8(ascii: "{"):
            i += 1
            while true {
                skipSpace()
                guard i < end else { return false }
                if byte(i) == UInt8(ascii: "}") { i += 1; return true }
                guard string() != nil else { return false }
                skipSpace()
                guard i < end, byte(i) == UInt8(ascii: ":") else { return false }
                i += 1
                skipSpace()
                guard skipValue(depth: depth + 1) else { return false }
                skipSpace()
                guard i < end else { return false }
                if byte(i) == UInt8(ascii: ",") { i += 1; continue }
                guard byte(i) == UInt8(ascii: "}") else { return false }
                i += 1
                return true
            }
        case UInt8(ascii: "["):
            i += 1
            while true {
                skipSpace()
                guard i < end else { return false }
                if byte(i) == UInt8(ascii: "]") { i += 1; return true }
                guard skipValue(depth: depth + 1) else { return false }
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

    /// `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?` as a finite Double.
    private mutating func number() -> Double? {
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
        guard let x = ByteNumber.double(UnsafeRawBufferPointer(start: p + start, count: i - start)), x.isFinite else { return nil }
        return x
    }

    /// A string at `i` (which is at its opening quote); nil when malformed.
    private mutating func string() -> Span? {
        guard i < end, byte(i) == UInt8(ascii: "\"") else { return nil }
        i += 1
        let start = i
        var ascii = true
        while i < end {
            let c = byte(i)
            if c == UInt8(ascii: "\"") {
                defer { i += 1 }
                return Span(start: Int32(start), count: Int32(i - start), inScratch: false, ascii: ascii)
            }
            if c == UInt8(ascii: "\\") {
                // Decode from here on into scratch.
                let out = scratch.count
                scratch.append(contentsOf: UnsafeRawBufferPointer(start: p + start, count: i - start))
                return escapedString(scratchStart: out, ascii: ascii)
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

    private mutating func escapedString(scratchStart: Int, ascii: Bool) -> Span? {
        var ascii = ascii
        while i < end {
            let c = byte(i)
            if c == UInt8(ascii: "\"") {
                i += 1
                return Span(start: Int32(scratchStart), count: Int32(scratch.count - scratchStart), inScratch: true, ascii: ascii)
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

    static func appendUTF8(_ s: UInt32, to out: inout [UInt8]) {
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
    static func utf8Sequence(_ q: UnsafeRawPointer, _ available: Int) -> Int? {
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
