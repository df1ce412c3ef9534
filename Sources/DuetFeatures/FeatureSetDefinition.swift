import Foundation
import Yams

/// A feature set: a named group of fields about one kind of entity (`user` or `item`), read together.
///
/// Defined in YAML (one file per set in `features/`):
///
///     name: item_catalog
///     entity: item
///     ttl: 30s            # how long the in-process cache keeps a row
///     fields:
///       - { name: item_feature_0, type: float, default: 0 }
///       - { name: item_feature_1, type: string, default: "" }
public struct FeatureSetDefinition: Sendable, Hashable {
    public var name: String
    public var entity: String
    public var fields: [FieldDefinition]
    /// How long a row stays in the in-process cache.
    public var ttl: Duration

    public init(name: String, entity: String, fields: [FieldDefinition], ttl: Duration = .seconds(30)) {
        self.name = name
        self.entity = entity
        self.fields = fields
        self.ttl = ttl
    }

    /// The field names, in definition order.
    public var fieldNames: [String] { fields.map(\.name) }

    /// A row of defaults for `id` (found: false).
    public func defaultRow(id: String) -> FeatureRow {
        var values: [String: FieldValue] = [:]
        values.reserveCapacity(fields.count)
        for f in fields { values[f.name] = f.defaultValue }
        return FeatureRow(id: id, values: values, found: false)
    }

    /// Builds a row from stored texts given in field order (nil = missing → default).
    public func row(id: String, texts: [String?]) -> FeatureRow {
        var values: [String: FieldValue] = [:]
        values.reserveCapacity(fields.count)
        var any = false
        for (i, f) in fields.enumerated() {
            let t = i < texts.count ? texts[i] : nil
            if t != nil { any = true }
            values[f.name] = f.value(from: t)
        }
        return FeatureRow(id: id, values: values, found: any)
    }

    /// Loads every `*.yaml` / `*.yml` file in `directory` (sorted by name). Throws on the first invalid file.
    public static func load(directory: String) throws -> [FeatureSetDefinition] {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory) else {
            throw FeatureError(.invalidDefinition, "cannot read feature definitions directory \(directory)")
        }
        var result: [FeatureSetDefinition] = []
        for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            let path = (directory as NSString).appendingPathComponent(name)
            result.append(try load(file: path))
        }
        var seen = Set<String>()
        for d in result where !seen.insert(d.name).inserted {
            throw FeatureError(.invalidDefinition, "\(directory): feature set \(d.name) is defined twice")
        }
        return result
    }

    /// Loads one definition file.
    public static func load(file path: String) throws -> FeatureSetDefinition {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FeatureError(.invalidDefinition, "cannot read \(path)")
        }
        return try parse(yaml: String(decoding: data, as: UTF8.self), source: path)
    }

    /// Parses one definition from YAML text; `source` names it in errors.
    public static func parse(yaml: String, source: String = "<yaml>") throws -> FeatureSetDefinition {
        func fail(_ what: String) -> FeatureError { FeatureError(.invalidDefinition, "\(source): \(what)") }
        let node: Any?
        do { node = try Yams.load(yaml: yaml) } catch {
            throw FeatureError(.invalidDefinition, "\(source): invalid YAML", cause: "\(error)")
        }
        guard let map = node as? [String: Any] else { throw fail("expected a mapping at the top") }
        guard let name = map["name"] as? String, isValidName(name) else {
            throw fail("`name` must be a non-empty name of letters, digits, _ or -")
        }
        guard let entity = map["entity"] as? String, !entity.isEmpty else { throw fail("`entity` is required (user or item)") }
        var ttl = Duration.seconds(30)
        if let raw = map["ttl"] {
            guard let t = parseDuration(raw) else { throw fail("`ttl` must look like 30s, 500ms, 5m or a number of seconds") }
            ttl = t
        }
        guard let rawFields = map["fields"] as? [Any], !rawFields.isEmpty else { throw fail("`fields` must be a non-empty list") }
        var fields: [FieldDefinition] = []
        var names = Set<String>()
        for (i, raw) in rawFields.enumerated() {
            guard let f = raw as? [String: Any] else { throw fail("fields[\(i)] must be a mapping") }
            guard let fname = f["name"] as? String, !fname.isEmpty, !fname.contains(",") else {
                throw fail("fields[\(i)].name is required (no commas)")
            }
            guard names.insert(fname).inserted else { throw fail("field \(fname) is defined twice") }
            guard let tname = f["type"] as? String, let type = FieldType(rawValue: tname) else {
                throw fail("field \(fname): type must be string, float or int")
            }
            var def: FieldValue? = nil
            if let d = f["default"] {
                guard let v = type.parse(d is String ? d as! String : "\(d)") else {
                    throw fail("field \(fname): default \(d) is not a \(tname)")
                }
                def = v
            }
            fields.append(FieldDefinition(name: fname, type: type, defaultValue: def))
        }
        return FeatureSetDefinition(name: name, entity: entity, fields: fields, ttl: ttl)
    }

    /// Set and version names: letters, digits, `_`, `-`, `.` (they become parts of Redis keys and paths).
    public static func isValidName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 128 && s != "." && s != ".."
            && s.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || "_-.".unicodeScalars.contains($0) }
    }

    static func parseDuration(_ raw: Any) -> Duration? {
        if let n = raw as? Int { return n >= 0 ? .seconds(n) : nil }
        if let d = raw as? Double { return d >= 0 ? .milliseconds(Int(d * 1000)) : nil }
        guard let s = raw as? String else { return nil }
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where s.hasSuffix(suffix) {
            let num = s.dropLast(suffix.count)
            if let v = Double(num), v >= 0, !(suffix == "s" && num.hasSuffix("m")) {
                return .milliseconds(Int(v * scale * 1000))
            }
        }
        if let v = Double(s), v >= 0 { return .milliseconds(Int(v * 1000)) }
        return nil
    }
}
