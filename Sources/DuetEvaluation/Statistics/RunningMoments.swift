import Foundation

/// Count, mean and sum of squared deviations of a stream of numbers, in O(1) memory: Welford's
/// update, and Chan, Golub & LeVeque's pairwise formula to merge two streams (shards, threads).
/// Numerically stable where the raw sums Σx and Σx² would cancel.
///
///     var m = RunningMoments()
///     for x in [1.0, 2, 4] { m.add(x) }
///     m.mean          // 2.333…
///     m.variance      // 2.333… (sample variance, n − 1)
public struct RunningMoments: Sendable, Equatable, Codable {
    public private(set) var count = 0
    public private(set) var mean = 0.0
    /// Σ (x − mean)².
    public private(set) var sumOfSquaredDeviations = 0.0

    public init() {}

    public mutating func add(_ x: Double) {
        count += 1
        let d = x - mean
        mean += d / Double(count)
        sumOfSquaredDeviations += d * (x - mean)
    }

    /// Adds every observation of `other`, as if they had been added here.
    public mutating func merge(_ other: RunningMoments) {
        guard other.count > 0 else { return }
        guard count > 0 else { self = other; return }
        let n = count + other.count
        let d = other.mean - mean
        let na = Double(count), nb = Double(other.count)
        mean += d * nb / Double(n)
        sumOfSquaredDeviations += other.sumOfSquaredDeviations + d * d * na * nb / Double(n)
        count = n
    }

    /// The sample variance (divisor n − 1); nil below two observations.
    public var variance: Double? { count > 1 ? max(0, sumOfSquaredDeviations) / Double(count - 1) : nil }

    /// The standard error of the mean, √(variance / n); nil below two observations.
    public var standardError: Double? { variance.map { ($0 / Double(count)).squareRoot() } }

    /// The mean with its normal-approximation interval `mean ± z·SE` at `level`; nil when empty,
    /// no interval below two observations, nor when every observation was the same: a zero
    /// standard error would claim certainty (an IPS estimate with no click among the events the
    /// target policy would have chosen is 0 ± 0), where the data say only that nothing varied yet.
    public func estimate(level: Double = 0.95) -> Estimate? {
        guard count > 0 else { return nil }
        guard let se = standardError, se > 0 else { return Estimate(value: mean, interval: nil, count: count, level: level) }
        return Estimate(value: mean, standardError: se, count: count, level: level)
    }
}
