import Foundation

/// One labelled example read from a log, before hashing.
public struct LogExample: Sendable {
    public var features: [NamedFeature]
    public var label: Double
    public var weight: Double
}

/// A malformed log: names the file and line.
public struct LogError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Reads training logs: the Open Bandit Dataset CSV (`obd`) or one JSON object per line (`jsonl`).
public enum LogReader {
    public enum Format: String, Sendable, CaseIterable { case obd, jsonl }

    /// Calls `body` for every example of `path`, in file order.
    public static func read(_ path: String, format: Format, items: String? = nil, _ body: (LogExample) throws -> Void) throws {
        switch format {
        case .obd: try readOBD(path, items: items ?? (URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("item_context.csv").path), body)
        case .jsonl: try readJSONL(path, body)
        }
    }

    static func lines(_ path: String) throws -> [Substring] {
        guard FileManager.default.fileExists(atPath: path) else { throw LogError("\(path): no such file") }
        guard let data = FileManager.default.contents(atPath: path) else { throw LogError("\(path): cannot read") }
        return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
    }

    /// `item_context.csv`: item id → its fields.
    public static func readItems(_ path: String) throws -> [String: [String: FeatureValue]] {
        let rows = try lines(path)
        guard let header = rows.first?.split(separator: ",", omittingEmptySubsequences: false).map(String.init),
              let idColumn = header.firstIndex(of: "item_id")
        else { throw LogError("\(path):1: expected a header with item_id") }
        var items: [String: [String: FeatureValue]] = [:]
        for (n, row) in rows.dropFirst().enumerated() {
            let f = row.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count == header.count else { throw LogError("\(path):\(n + 2): expected \(header.count) columns, got \(f.count)") }
            var fields: [String: FeatureValue] = [:]
            for (i, name) in header.enumerated() where i != idColumn && !name.isEmpty {
                fields[name] = value(f[i], numericIfPossible: name == "item_feature_0")
            }
            items[String(f[idColumn])] = fields
        }
        return items
    }

    static func value(_ s: Substring, numericIfPossible: Bool) -> FeatureValue {
        if numericIfPossible, let d = Double(s) { return .number(d) }
        return .string(String(s))
    }

    static func readOBD(_ path: String, items itemsPath: String, _ body: (LogExample) throws -> Void) throws {
        let items = try readItems(itemsPath)
        let rows = try lines(path)
        guard let header = rows.first?.split(separator: ",", omittingEmptySubsequences: false).map(String.init) else {
            throw LogError("\(path): empty file")
        }
        guard let itemCol = header.firstIndex(of: "item_id"), let clickCol = header.firstIndex(of: "click"),
              let posCol = header.firstIndex(of: "position")
        else { throw LogError("\(path):1: not an OBD log (needs item_id, position, click columns)") }
        let userFeatureCols = header.indices.filter { header[$0].hasPrefix("user_feature_") }
        var affinityCol: [String: Int] = [:]
        for c in header.indices where header[c].hasPrefix(FeatureNaming.affinityPrefix) {
            affinityCol[String(header[c].dropFirst(FeatureNaming.affinityPrefix.count))] = c
        }
        for (n, row) in rows.dropFirst().enumerated() {
            let f = row.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count == header.count else { throw LogError("\(path):\(n + 2): expected \(header.count) columns, got \(f.count)") }
            guard let click = Double(f[clickCol]) else { throw LogError("\(path):\(n + 2): click '\(f[clickCol])' is not a number") }
            // The user's fields; of the per-item affinities only the shown item's matters (FeatureNaming uses that one).
            let itemID = String(f[itemCol])
            var user: [String: FeatureValue] = [:]
            user.reserveCapacity(8)
            for c in userFeatureCols { user[header[c]] = .string(String(f[c])) }
            if let c = affinityCol[itemID] {
                guard let d = Double(f[c]) else { throw LogError("\(path):\(n + 2): \(header[c]) '\(f[c])' is not a number") }
                user[header[c]] = .number(d)
            }
            let features = FeatureNaming.example(
                user: user, context: ["position": .string(String(f[posCol]))], itemID: itemID, item: items[itemID] ?? [:])
            try body(LogExample(features: features, label: click, weight: 1))
        }
    }

    static func readJSONL(_ path: String, _ body: (LogExample) throws -> Void) throws {
        for (n, line) in try lines(path).enumerated() {
            let where_ = "\(path):\(n + 1)"
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw LogError("\(where_): not a JSON object")
            }
            guard let raw = obj["features"] as? [String: Any] else { throw LogError("\(where_): features: missing or not an object") }
            guard let label = (obj["label"] as? NSNumber)?.doubleValue else { throw LogError("\(where_): label: missing or not a number") }
            let weight = (obj["weight"] as? NSNumber)?.doubleValue ?? 1
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
