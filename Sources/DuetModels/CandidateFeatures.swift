/// The hashed features of many candidates in one flat buffer (candidate c's are
/// `features[ends[c - 1] ..< ends[c]]`), so scoring a request allocates two arrays, not one per
/// candidate. Reuse one with `removeAll()`.
///
///     var batch = CandidateFeatures()
///     batch.append(contentsOf: itemFeatures); batch.append(affinity); batch.close()
public struct CandidateFeatures: Sendable {
    public private(set) var features: [Feature] = []
    public private(set) var ends: [Int] = []

    public init() {}

    public init(_ candidates: [[Feature]]) {
        for c in candidates {
            features.append(contentsOf: c)
            close()
        }
    }

    /// The number of closed candidates.
    public var count: Int { ends.count }

    public mutating func reserveCapacity(candidates: Int, features perCandidate: Int) {
        ends.reserveCapacity(candidates)
        features.reserveCapacity(candidates * perCandidate)
    }

    public mutating func removeAll() {
        features.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
    }

    /// Adds a feature to the open candidate.
    public mutating func append(_ f: Feature) { features.append(f) }

    public mutating func append(contentsOf fs: some Collection<Feature>) { features.append(contentsOf: fs) }

    /// Ends the open candidate (the next `append` starts another).
    public mutating func close() { ends.append(features.count) }

    /// Candidate c's features.
    public subscript(c: Int) -> ArraySlice<Feature> {
        features[(c == 0 ? 0 : ends[c - 1])..<ends[c]]
    }
}
