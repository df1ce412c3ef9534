import DuetJSON
import DuetModels
import Foundation

/// A byte-level parser of one jsonl log line, `{"features": {NAME: VALUE, …}, "label": x, "weight"?: w}`,
/// that accepts and rejects what `JSONSerialization` (the reader before it) did:
/// - the full JSON grammar (tokens by `JSONLexer`), other keys and nested values skipped but
///   validated (depth ≤ 512); a leading byte-order mark;
/// - one trailing comma in an object or array, as Foundation's parser allows;
/// - a repeated key: the last value wins (for `features` and inside it);
/// - numbers: `true`/`false` count as 1/0, an integer zero is +0, a number too large for a Double
///   is an error.
///
/// Strings without escapes stay in the line; decoded ones go to `scratch`. Nothing is allocated
/// per line once the arrays have grown.
struct JSONLineParser {
    typealias Span = JSONLexer.Span

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
    /// The weight if it is a number (or a boolean); `badWeight` when present (not null) and not one.
    private(set) var weight: Double?
    private(set) var badWeight = false
    /// The line has a `candidates` member: a logged choice (`JSONLRoundReader`).
    private(set) var hasCandidates = false

    private var lex = JSONLexer(UnsafeRawBufferPointer(start: nil, count: 0))

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
        badWeight = false
        hasCandidates = false
        guard line.baseAddress != nil else { return false }
        lex = JSONLexer(line)
        if lex.end >= 3, lex.byte(0) == 0xEF, lex.byte(1) == 0xBB, lex.byte(2) == 0xBF { lex.i = 3 }
        lex.skipSpace()
        guard lex.current == UInt8(ascii: "{") else { return false }
        lex.i += 1
        guard topLevelMembers() else { return false }
        lex.skipSpace()
        return lex.i == lex.end
    }

    /// The bytes of a span, in `line` or in `scratch`.
    @inline(__always)
    static func bytes(_ s: Span, line: UnsafeRawBufferPointer, scratch: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let from = s.inScratch ? scratch : line
        return UnsafeRawBufferPointer(rebasing: from[Int(s.start)..<Int(s.start + s.count)])
    }

    // MARK: - Grammar

    /// After the top-level `{`: members up to and including `}`.
    private mutating func topLevelMembers() -> Bool {
        while true {
            let key: Span
            switch lex.memberKey(scratch: &scratch) {
            case .key(let k): key = k
            case .end: return true
            case .malformed: return false
            }
            switch keyName(key) {
            case 1:
                entries.removeAll(keepingCapacity: true)
                if lex.byte(lex.i) == UInt8(ascii: "{") {
                    lex.i += 1
                    guard featureMembers() else { return false }
                    features = .object
                } else {
                    guard lex.skipValue(depth: 1, scratch: &scratch) else { return false }
                    features = .other
                }
            case 2:
                guard let (kind, x) = scalar(depth: 1) else { return false }
                label = kind == .number ? x : nil
            case 3:
                if lex.literal("null") { weight = nil; badWeight = false; break }
                guard let (kind, x) = scalar(depth: 1) else { return false }
                weight = kind == .number ? x : nil
                badWeight = kind != .number
            case 4:
                hasCandidates = true
                guard lex.skipValue(depth: 1, scratch: &scratch) else { return false }
            default:
                guard lex.skipValue(depth: 1, scratch: &scratch) else { return false }
            }
            guard let more = lex.memberEnd() else { return false }
            if !more { return true }
        }
    }

    /// 1 for `features`, 2 for `label`, 3 for `weight`, 4 for `candidates`, else 0.
    private func keyName(_ key: Span) -> Int {
        func which(_ b: UnsafeRawBufferPointer) -> Int {
            func equals(_ s: StaticString) -> Bool { b.count == s.utf8CodeUnitCount && memcmp(b.baseAddress!, s.utf8Start, b.count) == 0 }
            guard b.count >= 5 else { return 0 }
            return equals("features") ? 1 : equals("label") ? 2 : equals("weight") ? 3 : equals("candidates") ? 4 : 0
        }
        return scratch.withUnsafeBytes { which(lex.bytes(key, scratch: $0)) }
    }

    /// After the `features` object's `{`: its members up to and including `}`.
    private mutating func featureMembers() -> Bool {
        while true {
            let name: Span
            switch lex.memberKey(scratch: &scratch) {
            case .key(let k): name = k
            case .end: return true
            case .malformed: return false
            }
            if lex.byte(lex.i) == UInt8(ascii: "\"") {
                guard let s = lex.string(scratch: &scratch) else { return false }
                entries.append(Entry(name: name, kind: .string, string: s, number: 0))
            } else {
                guard let (kind, x) = scalar(depth: 2) else { return false }
                entries.append(Entry(name: name, kind: kind, string: Span(), number: x))
            }
            guard let more = lex.memberEnd() else { return false }
            if !more { return true }
        }
    }

    /// A value seen as a number (numbers, `true`, `false`) or something else (validated and skipped).
    private mutating func scalar(depth: Int) -> (Kind, Double)? {
        let c = lex.byte(lex.i)
        if c == UInt8(ascii: "-") || c &- 48 < 10 {
            // A number too large for a Double is an error, as it was for JSONSerialization.
            guard let x = lex.number(), x.isFinite else { return nil }
            return (.number, x)
        }
        if c == UInt8(ascii: "t") { return lex.literal("true") ? (.number, 1) : nil }
        if c == UInt8(ascii: "f") { return lex.literal("false") ? (.number, 0) : nil }
        guard lex.skipValue(depth: depth, scratch: &scratch) else { return nil }
        return (.other, 0)
    }
}
