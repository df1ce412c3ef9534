import DuetJSON
import DuetModels
import Foundation

/// A malformed log: names the file and line.
public struct LogError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Reads training logs: the Open Bandit Dataset CSV (`obd`) or one JSON object per line (`jsonl`).
public enum LogReader {
    public enum Format: String, Sendable, CaseIterable { case obd, jsonl }

    /// `item_context.csv`: item id → its fields.
    public static func readItems(_ path: String) throws -> [String: [String: FeatureValue]] {
        guard FileManager.default.fileExists(atPath: path) else { throw LogError("\(path): no such file") }
        guard let data = FileManager.default.contents(atPath: path) else { throw LogError("\(path): cannot read") }
        var header: [String] = [], idColumn = 0
        var items: [String: [String: FeatureValue]] = [:]
        do {
            try CSVReader(bytes: [UInt8](data), source: path).forEachRecord { n, record in
                let f = record.map { String(decoding: $0, as: UTF8.self) }
                if n == 0 {
                    guard let id = f.firstIndex(of: "item_id") else { throw LogError("\(path):1: expected a header with item_id") }
                    (header, idColumn) = (f, id)
                    return
                }
                guard f.count == header.count else { throw LogError("\(path): record \(n): expected \(header.count) columns, got \(f.count)") }
                var fields: [String: FeatureValue] = [:]
                for (i, name) in header.enumerated() where i != idColumn && !name.isEmpty {
                    fields[name] = value(Substring(f[i]), numericIfPossible: name == "item_feature_0")
                }
                items[f[idColumn]] = fields
            }
        } catch let e as CSVError {
            throw LogError(e.description)
        }
        guard !header.isEmpty else { throw LogError("\(path):1: expected a header with item_id") }
        return items
    }

    static func value(_ s: Substring, numericIfPossible: Bool) -> FeatureValue {
        if numericIfPossible, let d = Double(s) { return .number(d) }
        return .string(String(s))
    }
}
