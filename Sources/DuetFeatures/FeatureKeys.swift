/// The Redis key layout of versioned feature sets.
///
/// | key | type | holds |
/// |---|---|---|
/// | `duet:fs:sets` | set | names of sets that have ever been loaded |
/// | `duet:fs:{set}:{version}:{id}` | hash | field → value of one entity |
/// | `duet:fs:{set}:ids:{version}` | set | every entity id of the version (the catalog) |
/// | `duet:fs:{set}:versions` | hash | version → row count (complete, verified versions only) |
/// | `duet:fs:{set}:meta:{version}` | hash | sha256, loaded_at, fields of the version |
/// | `duet:fs:{set}:incomplete` | set | versions being loaded (or left behind by a failed load) |
/// | `duet:fs:{set}:current` | string | the version readers use |
/// | `duet:fs:{set}:previous` | string | the version `rollback` returns to |
/// | `duet:fs:{set}:events` | channel | `promote {version}` / `rollback {version}` notices |
///
/// Metadata keys never fall in the entity keyspace `duet:fs:{set}:{version}:*`: they are
/// `duet:fs:{set}:{word}` or `duet:fs:{set}:{word}:{version}`, and a version may not be named like
/// one of those words (`reservedVersionNames`; set and version names have no `:`). Any entity id is
/// therefore safe, `_ids` included.
public enum FeatureKeys {
    /// Version names that would collide with metadata keys.
    public static let reservedVersionNames: Set<String> = ["meta", "ids", "versions", "incomplete", "current", "previous", "events"]
    public static let sets = "duet:fs:sets"
    public static func row(_ set: String, _ version: String, _ id: String) -> String { "duet:fs:\(set):\(version):\(id)" }
    public static func ids(_ set: String, _ version: String) -> String { "duet:fs:\(set):ids:\(version)" }
    /// Where versions loaded before the catalog moved out of the entity keyspace keep it (read only).
    public static func legacyIDs(_ set: String, _ version: String) -> String { "duet:fs:\(set):\(version):_ids" }
    public static func versions(_ set: String) -> String { "duet:fs:\(set):versions" }
    public static func meta(_ set: String, _ version: String) -> String { "duet:fs:\(set):meta:\(version)" }
    public static func incomplete(_ set: String) -> String { "duet:fs:\(set):incomplete" }
    public static func current(_ set: String) -> String { "duet:fs:\(set):current" }
    public static func previous(_ set: String) -> String { "duet:fs:\(set):previous" }
    public static func events(_ set: String) -> String { "duet:fs:\(set):events" }
}
