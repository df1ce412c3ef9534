import DuetJSON
import Foundation

/// One logged impression of an Open Bandit Dataset log as the replay clients (`duet demo`) need it:
/// the shown item, its position, the click, and the logging policy's propensity.
public struct OBDLoggedRow: Sendable, Equatable {
    /// The row's index column (the first column), or its number in the file when that is not a number.
    public var index: Int
    public var item: String
    public var position: String
    public var click: Int
    /// `propensity_score`, when the log has that column.
    public var propensity: Double?

    public init(index: Int, item: String, position: String, click: Int, propensity: Double? = nil) {
        self.index = index
        self.item = item
        self.position = position
        self.click = click
        self.propensity = propensity
    }

    /// The rows of the OBD log at `path` (at most `limit` when `limit` > 0), in file order.
    public static func read(_ path: String, limit: Int = 0) throws -> [OBDLoggedRow] {
        guard let data = FileManager.default.contents(atPath: path) else { throw LogError("\(path): cannot read") }
        var columns: (item: Int, position: Int, click: Int, propensity: Int?)?
        var rows: [OBDLoggedRow] = []
        do {
            try CSVReader(bytes: [UInt8](data), source: path).forEachRecord { n, record in
                let fields = record.map { String(decoding: $0, as: UTF8.self) }
                guard let c = columns else {
                    guard let item = fields.firstIndex(of: "item_id"), let position = fields.firstIndex(of: "position"),
                          let click = fields.firstIndex(of: "click")
                    else { throw LogError("\(path):1: expected OBD columns item_id, position, click") }
                    columns = (item, position, click, fields.firstIndex(of: "propensity_score"))
                    return
                }
                guard limit <= 0 || rows.count < limit else { return }
                guard fields.count > max(c.item, c.position, c.click), let click = Int(fields[c.click]) else {
                    throw LogError("\(path): record \(n): malformed row")
                }
                rows.append(OBDLoggedRow(
                    index: Int(fields[0]) ?? n - 1, item: fields[c.item], position: fields[c.position], click: click,
                    propensity: c.propensity.flatMap { $0 < fields.count ? Double(fields[$0]) : nil }))
            }
        } catch let e as CSVError {
            throw LogError(e.description)
        }
        return rows
    }
}
