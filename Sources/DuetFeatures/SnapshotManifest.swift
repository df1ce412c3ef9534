import Foundation

/// `manifest.json` of a snapshot: which set and version, how many rows, which fields, and the
/// data file's name, size and SHA-256 (lowercase hex).
///
///     {"set": "item_catalog", "version": "v1", "rows": 34, "fields": ["item_feature_0", ...],
///      "data": "data.csv", "bytes": 4242, "sha256": "9f86d0…", "format": "csv"}
///
/// The data file is CSV (RFC 4180 quoting): a header row `id,<field>,<field>…` whose first column is
/// the entity id, then one row per entity. Empty cells are stored as empty strings.
public struct SnapshotManifest: Codable, Sendable, Hashable {
    public var set: String
    public var version: String
    public var rows: Int
    public var fields: [String]
    public var data: String
    public var sha256: String
    public var bytes: Int
    public var format: String?
    public var createdAt: String?

    enum CodingKeys: String, CodingKey {
        case set, version, rows, fields, data, sha256, bytes, format
        case createdAt = "created_at"
    }

    public init(set: String, version: String, rows: Int, fields: [String], data: String, sha256: String, bytes: Int, format: String? = "csv", createdAt: String? = nil) {
        self.set = set
        self.version = version
        self.rows = rows
        self.fields = fields
        self.data = data
        self.sha256 = sha256
        self.bytes = bytes
        self.format = format
        self.createdAt = createdAt
    }

    /// Parses and checks a manifest; `source` names it in errors.
    public static func decode(_ data: Data, source: String) throws -> SnapshotManifest {
        let m: SnapshotManifest
        do { m = try JSONDecoder().decode(SnapshotManifest.self, from: data) } catch {
            throw FeatureError(.invalidSnapshot, "\(source): not a valid snapshot manifest", cause: "\(error)")
        }
        try m.validate(source: source)
        return m
    }

    /// Checks names, counts and the checksum's shape.
    public func validate(source: String) throws {
        func fail(_ s: String) -> FeatureError { FeatureError(.invalidSnapshot, "\(source): \(s)") }
        guard FeatureSetDefinition.isValidName(set) else { throw fail("invalid set name \"\(set)\"") }
        guard FeatureSetDefinition.isValidName(version), !FeatureKeys.reservedVersionNames.contains(version) else {
            throw fail("invalid version name \"\(version)\" (letters, digits, _ - . and not one of \(FeatureKeys.reservedVersionNames.sorted().joined(separator: ", ")))")
        }
        guard rows >= 0, bytes >= 0 else { throw fail("rows and bytes must be ≥ 0") }
        guard !fields.isEmpty, Set(fields).count == fields.count else { throw fail("fields must be a non-empty list of distinct names") }
        guard !data.isEmpty, !data.contains("/"), data != "..", data != "manifest.json" else { throw fail("data must be a plain file name") }
        guard sha256.count == 64, sha256.allSatisfy(\.isHexDigit) else { throw fail("sha256 must be 64 hex digits") }
        if let format, format != "csv" { throw fail("unsupported data format \(format) (csv only)") }
    }

    /// The manifest as pretty JSON.
    public func encoded() -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? e.encode(self)) ?? Data()
    }
}
