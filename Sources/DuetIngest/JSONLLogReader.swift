import DuetModels
import Foundation

/// The jsonl reader of `duet train` and `duet replay`: `{"features": {NAME: VALUE, …}, "label": 0|1,
/// "weight"?: w}` per line (a line with `candidates`, a logged choice, yields its chosen candidate's
/// row: `JSONLRoundReader`), parsed from bytes (`JSONLineParser`) and hashed directly, with the same
/// features, in the same order (by name), and the same errors as `LogReader.read` → `FeatureHasher.hash`.
enum JSONLLogReader {
    static func read(_ path: String, hasher: FeatureHasher, _ body: ([Feature], Double, Double) throws -> Void) throws {
        let lines = try LineReader(path: path)
        var parser = JSONLineParser()
        var builder = FeatureRowBuilder(hasher: hasher)
        var order: [Int] = []
        while let line = try lines.next() {
            guard !line.isEmpty else { continue }
            guard parser.parse(line) else { throw LogError("\(path):\(lines.lineNumber): not a JSON object") }
            if parser.hasCandidates {
                guard !parser.badWeight else { throw LogError("\(path):\(lines.lineNumber): weight: not a number") }
                let round = try JSONLRoundReader.round(line, hasher: hasher, path: path, line: lines.lineNumber)
                try body(round.candidates[round.loggedItem], round.click, parser.weight ?? 1)
                continue
            }
            guard parser.features == .object else { throw LogError("\(path):\(lines.lineNumber): features: missing or not an object") }
            guard let label = parser.label else { throw LogError("\(path):\(lines.lineNumber): label: missing or not a number") }
            guard !parser.badWeight else { throw LogError("\(path):\(lines.lineNumber): weight: not a number") }
            let weight = parser.weight ?? 1
            builder.removeAll()
            try parser.scratch.withUnsafeBytes { scratch in
                let entries = parser.entries
                @inline(__always) func bytes(_ s: JSONLineParser.Span) -> UnsafeRawBufferPointer {
                    JSONLineParser.bytes(s, line: line, scratch: scratch)
                }
                @inline(__always) func text(_ s: JSONLineParser.Span) -> String { String(decoding: bytes(s), as: UTF8.self) }
                // By name, as the reader before sorted its dictionary; a name given twice keeps its
                // first spelling and its last value, as that dictionary did. Names compare as Strings
                // (canonical equivalence) unless both are ASCII.
                func less(_ a: JSONLineParser.Span, _ b: JSONLineParser.Span) -> Bool {
                    guard a.ascii && b.ascii else { return text(a) < text(b) }
                    let x = bytes(a), y = bytes(b)
                    let c = memcmp(x.baseAddress!, y.baseAddress!, min(x.count, y.count))
                    return c < 0 || (c == 0 && x.count < y.count)
                }
                func same(_ a: JSONLineParser.Span, _ b: JSONLineParser.Span) -> Bool {
                    guard a.ascii && b.ascii else { return text(a) == text(b) }
                    return a.count == b.count && memcmp(bytes(a).baseAddress!, bytes(b).baseAddress!, Int(a.count)) == 0
                }
                order.removeAll(keepingCapacity: true)
                for k in entries.indices {
                    // Stable insertion sort: few features per line.
                    var j = order.count
                    order.append(k)
                    while j > 0 && less(entries[k].name, entries[order[j - 1]].name) {
                        order[j] = order[j - 1]
                        j -= 1
                    }
                    order[j] = k
                }
                var g = 0
                while g < order.count {
                    var last = g
                    while last + 1 < order.count && same(entries[order[g]].name, entries[order[last + 1]].name) { last += 1 }
                    let name = entries[order[g]].name, value = entries[order[last]]
                    g = last + 1
                    let nameBytes = bytes(name)
                    var m = Murmur3Stream()
                    m.add(nameBytes)
                    let field = m.finish()
                    let role = builder.hasInteractions ? builder.role(ofUTF8: nameBytes) : -1
                    switch value.kind {
                    case .string:
                        m.add(UInt8(ascii: "="))
                        m.add(bytes(value.string))
                        builder.appendCategorical(field: field, hash: m.finish(), role: role)
                    case .number:
                        builder.appendNumeric(field: field, value: value.number, role: role)
                    case .other:
                        throw LogError("\(path):\(lines.lineNumber): features.\(text(name)): expected a string or a number")
                    }
                }
            }
            builder.addInteractions()
            try body(builder.features, label, weight)
        }
    }
}
