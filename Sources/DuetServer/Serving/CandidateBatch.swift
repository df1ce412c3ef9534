import DuetModels

/// One request's candidates, prepared, as plain values copied out of the `CandidateTable` (nothing
/// shared to retain per candidate): each one's id number, its hashed features and, under the
/// request's model version, its score parts.
struct CandidateBatch {
    /// Candidate c's id as a number (see `Affinities`), or -1.
    var numbers: [Int] = []
    /// Candidate c's user-independent hashed features.
    var own = CandidateFeatures()
    /// Candidate c's `ModelVersion.itemParts` at `parts[c·w ..< (c+1)·w]` (empty when not asked for).
    var parts: [Float] = []
    /// Candidate c's named features (only when asked for: user × item interactions need them).
    var named: [[NamedFeature]] = []

    var count: Int { numbers.count }

    init(capacity: Int, features: Int = 4) {
        numbers.reserveCapacity(capacity)
        own.reserveCapacity(candidates: capacity, features: features)
    }

    /// Adds a candidate that is not in the table.
    mutating func append(_ item: PreparedCandidate, version: ModelVersion?, named withNamed: Bool) {
        numbers.append(item.number ?? -1)
        own.append(contentsOf: item.hashed)
        own.close()
        if let version { parts.append(contentsOf: version.itemParts(item.hashed)) }
        if withNamed { named.append(item.named) }
    }
}
