/// The hashed features of many candidates in one flat buffer (candidate c's are
/// `features[ends[c - 1] ..< ends[c]]`), so scoring a request allocates two arrays, not one per
/// candidate. Reuse one with `removeAll()`. Inlinable: the server fills it per candidate, and a
/// generic call across the module boundary per append cost more than the scoring.
///
///     var batch = CandidateFeatures()
///     batch.append(contentsOf: itemFeatures); batch.append(affinity); batch.close()
public struct CandidateFeatures: Sendable {
    @usableFromInline var storage: [Feature] = []
    @usableFromInline var bounds: [Int] = []

    public init() {}

    public init(_ candidates: [[Feature]]) {
        for c in candidates {
            storage.append(contentsOf: c)
            close()
        }
    }

    /// Every candidate's features, back to back, and where each candidate's end.
    public var features: [Feature] { storage }
    public var ends: [Int] { bounds }

    /// The number of closed candidates.
    @inlinable public var count: Int { bounds.count }

    @inlinable
    public mutating func reserveCapacity(candidates: Int, features perCandidate: Int) {
        bounds.reserveCapacity(candidates)
        storage.reserveCapacity(candidates * perCandidate)
    }

    /// Room for exactly `candidates` candidates of `features` features in all (a batch kept a long
    /// time, such as an impression's, then holds no spare capacity).
    @inlinable
    public mutating func reserveCapacity(candidates: Int, totalFeatures features: Int) {
        bounds.reserveCapacity(candidates)
        storage.reserveCapacity(features)
    }

    @inlinable
    public mutating func removeAll() {
        storage.removeAll(keepingCapacity: true)
        bounds.removeAll(keepingCapacity: true)
    }

    /// Adds a feature to the open candidate.
    @inlinable public mutating func append(_ f: Feature) { storage.append(f) }

    @inlinable public mutating func append(contentsOf fs: some Sequence<Feature>) { storage.append(contentsOf: fs) }

    /// Ends the open candidate (the next `append` starts another).
    @inlinable public mutating func close() { bounds.append(storage.count) }

    /// Candidate c's features, borrowed for `body` (a slice would retain the storage: a shared count
    /// when many tasks read one batch).
    @inlinable
    public func withFeatures<R>(of c: Int, _ body: (UnsafeBufferPointer<Feature>) throws -> R) rethrows -> R {
        let start = c == 0 ? 0 : bounds[c - 1], end = bounds[c]
        return try storage.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start..<end])) }
    }

    /// Every candidate's features, readable by index with the buffers opened once for all of them
    /// (`withFeatures` opens them per call: a reference count each time, on storage many tasks share).
    @frozen
    public struct Reader {
        public let storage: UnsafeBufferPointer<Feature>
        public let bounds: UnsafeBufferPointer<Int>

        @inlinable
        init(storage: UnsafeBufferPointer<Feature>, bounds: UnsafeBufferPointer<Int>) {
            self.storage = storage
            self.bounds = bounds
        }

        /// Candidate c's features.
        @inlinable
        public subscript(c: Int) -> UnsafeBufferPointer<Feature> {
            UnsafeBufferPointer(rebasing: storage[(c == 0 ? 0 : bounds[c - 1])..<bounds[c]])
        }
    }

    /// `body` with a `Reader` over every candidate, valid only inside it.
    @inlinable
    public func withReader<R>(_ body: (Reader) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer { s in
            try bounds.withUnsafeBufferPointer { b in try body(Reader(storage: s, bounds: b)) }
        }
    }


    /// Candidate c's features.
    @inlinable
    public subscript(c: Int) -> ArraySlice<Feature> {
        storage[(c == 0 ? 0 : bounds[c - 1])..<bounds[c]]
    }
}
