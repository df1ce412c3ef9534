import Crypto
import DuetJSON
import Foundation

/// A snapshot on disk (`manifest.json` + CSV data file), opened and verified: size and SHA-256
/// match the manifest, the header matches its fields, and the row count matches.
///
///     let snap = try Snapshot.open(directory: "features/snapshots/item_catalog/v1")
///     try snap.forEachRow { id, values in … }
public struct Snapshot: Sendable {
    public let directory: String
    public let manifest: SnapshotManifest
    let data: [UInt8]

    /// The data file's path.
    public var dataPath: String { (directory as NSString).appendingPathComponent(manifest.data) }

    /// Opens and verifies the snapshot in `directory`. When `definition` is given, every snapshot
    /// field must be one of its fields.
    public static func open(directory: String, definition: FeatureSetDefinition? = nil) throws -> Snapshot {
        let manifestPath = (directory as NSString).appendingPathComponent("manifest.json")
        guard let raw = FileManager.default.contents(atPath: manifestPath) else {
            throw FeatureError(.invalidSnapshot, "\(manifestPath): cannot read the snapshot manifest")
        }
        let manifest = try SnapshotManifest.decode(raw, source: manifestPath)
        if let definition {
            guard definition.name == manifest.set else {
                throw FeatureError(.invalidSnapshot, "\(manifestPath): snapshot is of set \(manifest.set), not \(definition.name)")
            }
            let known = Set(definition.fieldNames)
            if let unknown = manifest.fields.first(where: { !known.contains($0) }) {
                throw FeatureError(.invalidSnapshot, "\(manifestPath): field \(unknown) is not in the definition of \(definition.name)")
            }
        }
        let path = (directory as NSString).appendingPathComponent(manifest.data)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FeatureError(.invalidSnapshot, "\(path): cannot read the snapshot data file")
        }
        try verify(data: data, manifest: manifest, source: path)
        let snap = Snapshot(directory: directory, manifest: manifest, data: [UInt8](data))
        try snap.checkShape()
        return snap
    }

    /// Checks size then SHA-256 of `data` against `manifest`.
    public static func verify(data: Data, manifest: SnapshotManifest, source: String) throws {
        guard data.count == manifest.bytes else {
            throw FeatureError(.checksumMismatch, "\(source): size is \(data.count) bytes, manifest says \(manifest.bytes) (truncated or wrong file)")
        }
        let digest = sha256Hex(data)
        guard digest == manifest.sha256.lowercased() else {
            throw FeatureError(.checksumMismatch, "\(source): sha256 is \(digest), manifest says \(manifest.sha256)")
        }
    }

    /// Lowercase hex SHA-256.
    public static func sha256Hex<D: DataProtocol>(_ data: D) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    private func checkShape() throws {
        var rows = 0
        try forEachRow { _, _ in rows += 1 }
        guard rows == manifest.rows else {
            throw FeatureError(.invalidSnapshot, "\(dataPath): \(rows) rows, manifest says \(manifest.rows)")
        }
    }

    /// Calls `body(id, values)` for each data row; values are in manifest field order.
    func forEachRow(_ body: (ArraySlice<UInt8>, ArraySlice<ArraySlice<UInt8>>) throws -> Void) throws {
        let width = manifest.fields.count + 1
        let source = dataPath
        let fields = manifest.fields
        do {
            try CSVReader(bytes: data, source: source).forEachRecord { n, record in
                guard record.count == width else {
                    throw FeatureError(.invalidSnapshot, "\(source): record \(n) has \(record.count) columns, expected \(width)")
                }
                if n == 0 {
                    let header = record.dropFirst().map { String(decoding: $0, as: UTF8.self) }
                    guard header == fields else {
                        throw FeatureError(.invalidSnapshot, "\(source): header \(header.joined(separator: ",")) does not match the manifest's fields")
                    }
                    return
                }
                guard !record[0].isEmpty else { throw FeatureError(.invalidSnapshot, "\(source): record \(n) has an empty id") }
                try body(record[0], record[1...])
            }
        } catch let e as CSVError {
            throw FeatureError(e)
        }
    }

    /// All rows as strings: (id, values in manifest field order).
    public func rows() throws -> [(id: String, values: [String])] {
        var out: [(id: String, values: [String])] = []
        out.reserveCapacity(manifest.rows)
        try forEachRow { id, values in
            out.append((String(decoding: id, as: UTF8.self), values.map { String(decoding: $0, as: UTF8.self) }))
        }
        return out
    }

    /// Writes a snapshot (data file + manifest) into `directory` (created if needed); returns its manifest.
    @discardableResult
    public static func write(directory: String, set: String, version: String, fields: [String], rows: [(id: String, values: [String])]) throws -> SnapshotManifest {
        var text = "id," + fields.map(CSVReader.escape).joined(separator: ",") + "\n"
        text.reserveCapacity(rows.count * (fields.count * 8 + 8))
        for r in rows {
            text += CSVReader.escape(r.id)
            for v in r.values { text += ","; text += CSVReader.escape(v) }
            text += "\n"
        }
        let data = Data(text.utf8)
        let manifest = SnapshotManifest(
            set: set, version: version, rows: rows.count, fields: fields, data: "data.csv",
            sha256: sha256Hex(data), bytes: data.count, format: "csv",
            createdAt: ISO8601DateFormatter().string(from: Date()))
        try manifest.validate(source: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent("data.csv")))
        try manifest.encoded().write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent("manifest.json")))
        return manifest
    }
}
