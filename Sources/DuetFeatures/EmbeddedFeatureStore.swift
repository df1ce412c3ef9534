import Foundation

/// The same `FeatureReader` API over an in-memory copy of snapshot files: no Redis needed
/// (`duet demo`, a first run, tests).
///
/// Layout: `<snapshotsDirectory>/<set>/<version>/{manifest.json,data.csv}`. The current version of
/// a set is the one named in `<snapshotsDirectory>/<set>/current` (a one-line text file) when that
/// file exists, else the greatest version name in numeric-aware order (`v10` > `v9`,
/// `2026-11-02` > `2026-11-01`). Only the current version of each set is loaded, verified by checksum.
public final class EmbeddedFeatureStore: FeatureReader {
    struct SetData: Sendable {
        let definition: FeatureSetDefinition
        let version: String
        let rows: [String: FeatureRow]
        let ids: [String]
    }

    private let sets: [String: SetData]
    private let counters = FeatureStoreCounters()

    /// Loads the current version of every defined set found under `snapshotsDirectory`.
    /// A defined set with no snapshot serves defaults (`degraded`); a bad snapshot throws.
    public init(snapshotsDirectory: String, definitions: [FeatureSetDefinition]) throws {
        var sets: [String: SetData] = [:]
        for def in definitions {
            let setDir = (snapshotsDirectory as NSString).appendingPathComponent(def.name)
            guard let version = try Self.currentVersion(setDirectory: setDir) else { continue }
            let snap = try Snapshot.open(directory: (setDir as NSString).appendingPathComponent(version), definition: def)
            var rows: [String: FeatureRow] = [:]
            rows.reserveCapacity(snap.manifest.rows)
            var ids: [String] = []
            // Snapshot column → definition field, once per snapshot (per row, the name search over 84
            // fields was a quarter of the server's start-up).
            let columns = snap.manifest.fields.map { f in def.fields.firstIndex(where: { $0.name == f }) }
            for r in try snap.rows() {
                var texts: [String?] = Array(repeating: nil, count: def.fields.count)
                for (i, j) in columns.enumerated() {
                    if let j { texts[j] = r.values[i] }
                }
                var row = def.row(id: r.id, texts: texts)
                row.found = true
                guard rows.updateValue(row, forKey: r.id) == nil else {
                    throw FeatureError(.invalidSnapshot, "\(snap.dataPath): id \(r.id) appears twice")
                }
                ids.append(r.id)
            }
            sets[def.name] = SetData(definition: def, version: snap.manifest.version, rows: rows, ids: ids)

        }
        self.sets = sets
        self.definitions = Dictionary(definitions.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    private let definitions: [String: FeatureSetDefinition]

    /// The version `current` names, or the greatest version directory; nil when the set has none.
    public static func currentVersion(setDirectory: String) throws -> String? {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: setDirectory, isDirectory: &isDir), isDir.boolValue else { return nil }
        let currentFile = (setDirectory as NSString).appendingPathComponent("current")
        if let data = fm.contents(atPath: currentFile) {
            let v = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard FeatureSetDefinition.isValidName(v) else { throw FeatureError(.invalidSnapshot, "\(currentFile): not a version name") }
            return v
        }
        let versions = try fm.contentsOfDirectory(atPath: setDirectory).filter { name in
            fm.fileExists(atPath: (setDirectory as NSString).appendingPathComponent("\(name)/manifest.json"))
        }
        return versions.max { $0.compare($1, options: .numeric) == .orderedAscending }
    }

    public func read(set: String, ids: [String]) async -> FeatureReadResult {
        readNow(set: set, ids: ids)
    }

    /// The synchronous read (the embedded store never waits).
    public func readNow(set: String, ids: [String]) -> FeatureReadResult {
        counters.reads.wrappingIncrement(ordering: .relaxed)
        guard let data = sets[set] else {
            counters.degradedReads.wrappingIncrement(ordering: .relaxed)
            let rows = ids.map { definitions[set]?.defaultRow(id: $0) ?? FeatureRow(id: $0, values: [:], found: false) }
            return FeatureReadResult(set: set, version: "", rows: rows, degraded: true, cacheHits: 0)
        }
        let rows = ids.map { data.rows[$0] ?? data.definition.defaultRow(id: $0) }
        counters.cacheHits.wrappingIncrement(by: ids.count, ordering: .relaxed)
        return FeatureReadResult(set: set, version: data.version, rows: rows, degraded: false, cacheHits: 0)
    }

    public func read(user: String, userSet: String, items: [String], itemSet: String) async -> (user: FeatureReadResult, items: FeatureReadResult) {
        (readNow(set: userSet, ids: [user]), readNow(set: itemSet, ids: items))
    }

    public func entityIDs(set: String) async -> (version: String, ids: [String]) {
        guard let d = sets[set] else { return ("", []) }
        return (d.version, d.ids)
    }

    public func currentVersions() async -> [String: String] {
        sets.mapValues(\.version)
    }

    public func currentVersion(set: String) async -> String? {
        sets[set]?.version
    }

    /// Counters; `cacheHits` counts rows served from memory.
    public func metrics() -> FeatureStoreMetrics { counters.snapshot() }
}
