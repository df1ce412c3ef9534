extension ModelConfig {
    /// Hash bits a model may have: what `FeatureHasher` accepts.
    public static let bitsRange = 1...28
    /// Factorization-machine ranks a model may have (`duet train --k` takes the same).
    public static let kRange = 0...64
    /// At most this many interaction pairs.
    public static let maxInteractions = 1024
    /// Counts (positives, examples seen, prior pseudo-counts, shrinkage) stay within this, so every
    /// sum of them is finite and `Int(seen)` is representable.
    public static let countRange: ClosedRange<Double> = 0...1e18

    /// A field of a configuration that no model may have (read from a file a person or a program can
    /// edit): the field's name as a header spells it, its value and what it must be.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public var field: String
        public var value: String
        public var expected: String
        /// True when the value is NaN or infinite (rather than merely out of range).
        public var nonFinite: Bool
        public var description: String { "\(field) = \(value): \(expected)" }
    }

    /// Throws the first field outside what the hasher, the learner and scoring can take: bits and k
    /// within their ranges, interactions pairs of field names, step sizes positive, every number
    /// finite. Run before anything is allocated or computed from a configuration read from outside.
    public func validate() throws(Invalid) {
        guard Self.bitsRange.contains(bits) else { throw Invalid(field: "bits", value: "\(bits)", expected: "must be within \(Self.bitsRange.lowerBound)…\(Self.bitsRange.upperBound)", nonFinite: false) }
        guard Self.kRange.contains(k) else { throw Invalid(field: "k", value: "\(k)", expected: "must be within \(Self.kRange.lowerBound)…\(Self.kRange.upperBound)", nonFinite: false) }
        guard interactions.count <= Self.maxInteractions else {
            throw Invalid(field: "interactions", value: "\(interactions.count) pairs", expected: "at most \(Self.maxInteractions)", nonFinite: false)
        }
        for (i, pair) in interactions.enumerated() where pair.count != 2 || pair.contains(where: \.isEmpty) {
            throw Invalid(field: "interactions[\(i)]", value: "\(pair)", expected: "must be a pair of field names", nonFinite: false)
        }
        try Self.check("learningRate", Double(learningRate), positive: true)
        try Self.check("factorLearningRate", Double(factorLearningRate), positive: true)
        try Self.check("l2", Double(l2))
        try Self.check("l1", Double(l1))
        try Self.check("ftrlBeta", Double(ftrlBeta))
        try Self.check("clip", Double(clip), positive: true)
        try Self.check("factorInit", Double(factorInit), within: 0...1)
        try Self.check("priorPositives", priorPositives, within: Self.countRange)
        try Self.check("priorNegatives", priorNegatives, within: Self.countRange)
        try Self.check("shrinkage", shrinkage, within: Self.countRange)
    }

    /// `value` is finite and within `range` (and, if `positive`, above 0).
    static func check(_ field: String, _ value: Double, within range: ClosedRange<Double> = 0...Double.greatestFiniteMagnitude, positive: Bool = false) throws(Invalid) {
        guard value.isFinite else { throw Invalid(field: field, value: "\(value)", expected: "must be a finite number", nonFinite: true) }
        guard range.contains(value), !positive || value > 0 else {
            let expected = positive ? "must be above 0" : range.upperBound == .greatestFiniteMagnitude ? "must be at least \(range.lowerBound)" : "must be within \(range.lowerBound)…\(range.upperBound)"
            throw Invalid(field: field, value: "\(value)", expected: expected, nonFinite: false)
        }
    }
}
