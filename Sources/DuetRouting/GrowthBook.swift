/// GrowthBook's assignment algorithm, bucket-compatible with its SDKs (spec 0.5+).
///
/// Hashing is FNV-1a 32 over the string's UTF-16 code units, as the JS SDK (`charCodeAt`) and the
/// Python SDK (growthbook 4.x, `utf-16-le`) do; for ASCII that is the same as bytes or scalars.
///
///     GrowthBook.hash(seed: "homepage", value: "user-1", version: 2)   // 0.0 ..< 1.0
public enum GrowthBook {
    static let offset: UInt32 = 0x811C_9DC5
    static let prime: UInt32 = 0x0100_0193

    /// FNV-1a 32 of a string's UTF-16 code units.
    @inlinable
    public static func fnv1a32(_ s: String) -> UInt32 {
        fnv1a32(s, continuing: 0x811C_9DC5)
    }

    /// Continues an FNV-1a 32 state over `s`, so `seed + value` hashes without concatenating.
    ///
    /// ASCII strings (the common case for ids) hash straight from their UTF-8 bytes, which equal their
    /// UTF-16 code units; anything else walks the UTF-16 view.
    @inlinable
    public static func fnv1a32(_ s: String, continuing state: UInt32) -> UInt32 {
        var s = s
        let fast: UInt32? = s.withUTF8 { bytes in
            var h = state
            for b in bytes {
                if b >= 0x80 { return nil }
                h = (h ^ UInt32(b)) &* 0x0100_0193
            }
            return h
        }
        if let fast { return fast }
        var h = state
        for unit in s.utf16 {
            h = (h ^ UInt32(unit)) &* 0x0100_0193
        }
        return h
    }

    /// FNV-1a 32 of the decimal digits of `n` (what `fnv1a32(String(n))` gives), with no allocation.
    @inlinable
    static func fnv1a32Decimal(_ n: UInt32) -> UInt32 {
        var divisor: UInt32 = 1
        while n / divisor >= 10 { divisor &*= 10 }
        var h: UInt32 = 0x811C_9DC5
        var rest = n
        while true {
            let digit = rest / divisor
            h = (h ^ (48 + digit)) &* 0x0100_0193
            rest -= digit * divisor
            if divisor == 1 { break }
            divisor /= 10
        }
        return h
    }

    /// `hash(seed, value, version)`: v2 `(fnv(str(fnv(seed+value))) % 10000) / 10000`,
    /// v1 `(fnv(value+seed) % 1000) / 1000`. Nil for other versions.
    @inlinable
    public static func hash(seed: String, value: String, version: Int) -> Double? {
        switch version {
        case 2:
            return hashV2(seedState: fnv1a32(seed), value: value)
        case 1:
            return Double(fnv1a32(seed, continuing: fnv1a32(value)) % 1000) / 1000
        default:
            return nil
        }
    }

    /// Version 2 with the seed's FNV state computed once (the route table keeps it per experiment).
    @inlinable
    public static func hashV2(seedState: UInt32, value: String) -> Double {
        Double(fnv1a32Decimal(fnv1a32(value, continuing: seedState)) % 10000) / 10000
    }

    /// `[1/n, …]`; empty for n < 1.
    public static func equalWeights(_ n: Int) -> [Double] {
        n < 1 ? [] : Array(repeating: 1 / Double(n), count: n)
    }

    /// GrowthBook's weight validity: one finite, non-negative weight per arm, summing to 1 ± 0.01.
    public static func isValidWeights(_ weights: [Double]?, count: Int) -> Bool {
        guard let weights, weights.count == count else { return false }
        guard weights.allSatisfy({ $0.isFinite && $0 >= 0 }) else { return false }
        let sum = weights.reduce(0, +)
        return sum >= 0.99 && sum <= 1.01
    }

    /// Bucket ranges: cumulative weights, each `[start, start + coverage × weight)`. Coverage is
    /// clamped to [0, 1]; invalid weights fall back to equal weights.
    public static func bucketRanges(count: Int, coverage: Double = 1, weights: [Double]? = nil) -> [BucketRange] {
        var c = coverage
        if c < 0 { c = 0 }
        if c > 1 { c = 1 }
        let w = isValidWeights(weights, count: count) ? weights! : equalWeights(count)
        var cumulative = 0.0
        var ranges: [BucketRange] = []
        ranges.reserveCapacity(w.count)
        for weight in w {
            let start = cumulative
            cumulative += weight
            ranges.append(BucketRange(start: start, end: start + c * weight))
        }
        return ranges
    }

    /// The index of the range holding `n`, or -1.
    @inlinable
    public static func chooseVariation(_ n: Double, ranges: [BucketRange]) -> Int {
        for i in ranges.indices where ranges[i].contains(n) { return i }
        return -1
    }

    /// Whether `user` falls in a namespace's `[start, end)`.
    @inlinable
    public static func inNamespace(user: String, name: String, start: Double, end: Double) -> Bool {
        // hash("__" + name, user, 1) = fnv(user + "__" + name) % 1000 / 1000.
        var h = fnv1a32(user)
        h = (h ^ 95) &* 0x0100_0193
        h = (h ^ 95) &* 0x0100_0193
        h = fnv1a32(name, continuing: h)
        let n = Double(h % 1000) / 1000
        return n >= start && n < end
    }
}

/// `[start, end)` of the hash space.
public struct BucketRange: Sendable, Equatable, Codable {
    public var start: Double
    public var end: Double

    public init(start: Double, end: Double) {
        self.start = start
        self.end = end
    }

    @inlinable
    public func contains(_ n: Double) -> Bool { n >= start && n < end }
}
