@testable import DuetIngest
import DuetModels
import Foundation

/// One labelled example read from a log, before hashing.
struct LogExample: Sendable {
    var features: [NamedFeature]
    var label: Double
    var weight: Double
}

/// The reference reader of the parity tests: the naming layer's path (`FeatureNaming` with
/// dictionaries per row, Foundation's JSON), which `LogReader.readHashed` must match exactly.
/// It lived in the library as `LogReader.read`, used by tests only.
enum ReferenceLogReader {
    /// Calls `body` for every example of `path`, in file order.
    static func read(_ path: String, format: LogReader.Format, items: String? = nil, _ body: (LogExample) throws -> Void) throws {
        switch format {
        case .obd: try readOBD(path, items: items ?? (URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("item_context.csv").path), body)
        case .jsonl: try readJSONL(path, body)
        }
    }

    /// The file's bytes and the byte ranges of its non-empty lines (byte-level: Character-based
    /// splitting of a large log costs more than learning from it).
    static func byteLines(_ path: String) throws -> ([UInt8], [Range<Int>]) {
        guard FileManager.default.fileExists(atPath: path) else { throw LogError("\(path): no such file") }
        guard let data = FileManager.default.contents(atPath: path) else { throw LogError("\(path): cannot read") }
        let bytes = [UInt8](data)
        var lines: [Range<Int>] = []
        var start = 0
        for i in bytes.indices where bytes[i] == 10 {
            var end = i
            if end > start && bytes[end - 1] == 13 { end -= 1 }
            if end > start { lines.append(start..<end) }
            start = i + 1
        }
        if start < bytes.count { lines.append(start..<bytes.count) }
        return (bytes, lines)
    }

    static func readOBD(_ path: String, items itemsPath: String, _ body: (LogExample) throws -> Void) throws {
        let items = try LogReader.readItems(itemsPath)
        let (bytes, rows) = try byteLines(path)
        guard let first = rows.first else { throw LogError("\(path): empty file") }
        let header = String(decoding: bytes[first], as: UTF8.self).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard let itemCol = header.firstIndex(of: "item_id"), let clickCol = header.firstIndex(of: "click"),
              let posCol = header.firstIndex(of: "position")
        else { throw LogError("\(path):1: not an OBD log (needs item_id, position, click columns)") }
        let userFeatureCols = header.indices.filter { header[$0].hasPrefix("user_feature_") }
        var affinityCol: [String: Int] = [:]
        for c in header.indices where header[c].hasPrefix(FeatureNaming.affinityPrefix) {
            affinityCol[String(header[c].dropFirst(FeatureNaming.affinityPrefix.count))] = c
        }
        var fields: [Range<Int>] = []
        fields.reserveCapacity(header.count)
        func text(_ c: Int) -> String { String(decoding: bytes[fields[c]], as: UTF8.self) }
        for (n, row) in rows.dropFirst().enumerated() {
            fields.removeAll(keepingCapacity: true)
            var start = row.lowerBound
            for i in row where bytes[i] == 44 {
                fields.append(start..<i)
                start = i + 1
            }
            fields.append(start..<row.upperBound)
            guard fields.count == header.count else { throw LogError("\(path):\(n + 2): expected \(header.count) columns, got \(fields.count)") }
            guard let click = Double(text(clickCol)) else { throw LogError("\(path):\(n + 2): click '\(text(clickCol))' is not a number") }
            // The user's fields; of the per-item affinities only the shown item's matters (FeatureNaming uses that one).
            let itemID = text(itemCol)
            var user: [String: FeatureValue] = [:]
            user.reserveCapacity(8)
            for c in userFeatureCols { user[header[c]] = .string(text(c)) }
            if let c = affinityCol[itemID] {
                guard let d = Double(text(c)) else { throw LogError("\(path):\(n + 2): \(header[c]) '\(text(c))' is not a number") }
                user[header[c]] = .number(d)
            }
            let features = FeatureNaming.example(
                user: user, context: ["position": .string(text(posCol))], itemID: itemID, item: items[itemID] ?? [:])
            try body(LogExample(features: features, label: click, weight: 1))
        }
    }

    static func readJSONL(_ path: String, _ body: (LogExample) throws -> Void) throws {
        let (bytes, rows) = try byteLines(path)
        for (n, line) in rows.enumerated() {
            let where_ = "\(path):\(n + 1)"
            guard let obj = try? JSONSerialization.jsonObject(with: Data(bytes[line])) as? [String: Any] else {
                throw LogError("\(where_): not a JSON object")
            }
            guard let raw = obj["features"] as? [String: Any] else { throw LogError("\(where_): features: missing or not an object") }
            guard let label = (obj["label"] as? NSNumber)?.doubleValue else { throw LogError("\(where_): label: missing or not a number") }
            let weight: Double
            switch obj["weight"] {
            case nil, is NSNull: weight = 1
            case let n as NSNumber: weight = n.doubleValue
            default: throw LogError("\(where_): weight: not a number")
            }
            var features: [NamedFeature] = []
            features.reserveCapacity(raw.count)
            for (name, value) in raw.sorted(by: { $0.key < $1.key }) {
                if let s = value as? String {
                    features.append(NamedFeature(name, .string(s)))
                } else if let d = (value as? NSNumber)?.doubleValue {
                    features.append(NamedFeature(name, .number(d)))
                } else {
                    throw LogError("\(where_): features.\(name): expected a string or a number")
                }
            }
            try body(LogExample(features: features, label: label, weight: weight))
        }
    }
}
