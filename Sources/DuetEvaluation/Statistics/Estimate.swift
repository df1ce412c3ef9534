import Foundation

/// A point estimate with its confidence interval at `level`.
public struct Estimate: Sendable, Equatable {
    public var value: Double
    /// nil when it cannot be computed (fewer than two events).
    public var interval: ClosedRange<Double>?
    /// The events the estimate is made from.
    public var count: Int
    public var level: Double

    public init(value: Double, interval: ClosedRange<Double>?, count: Int, level: Double) {
        self.value = value
        self.interval = interval
        self.count = count
        self.level = level
    }

    /// `value ± z·standardError`, z the standard normal quantile of (1 + level) / 2 (1.96 at 95%).
    public init(value: Double, standardError: Double?, count: Int, level: Double) {
        var interval: ClosedRange<Double>?
        if let se = standardError, se.isFinite, value.isFinite {
            let half = StandardNormal.quantile((1 + level) / 2) * se
            interval = (value - half)...(value + half)
        }
        self.init(value: value, interval: interval, count: count, level: level)
    }
}
