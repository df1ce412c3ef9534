import Foundation

/// The standard normal distribution's CDF and quantile, for interval half-widths.
public enum StandardNormal {
    /// P(Z ≤ x).
    public static func cdf(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

    /// The x with P(Z ≤ x) = p, for 0 < p < 1 (bisection on `cdf`: ~100 steps to the last bit;
    /// called once per interval, never per event). `quantile(0.975)` = 1.959963984540054.
    public static func quantile(_ p: Double) -> Double {
        precondition(p > 0 && p < 1, "quantile: p must be within (0, 1)")
        var lo = -40.0, hi = 40.0
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if mid == lo || mid == hi { break }
            if cdf(mid) < p { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }
}
