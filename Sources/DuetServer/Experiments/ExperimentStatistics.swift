import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The statistics Duet reports per experiment: sample-ratio mismatch, CTR intervals, arm differences.
public enum ExperimentStatistics {
    /// χ² goodness-of-fit p-value of `observed` counts against the configured `weights` (any scale).
    /// 1 when there is nothing to test (fewer than two arms with weight, or no observations).
    public static func srmPValue(observed: [Int], weights: [Double]) -> Double {
        let total = Double(observed.reduce(0, +))
        let weightSum = weights.reduce(0, +)
        guard total > 0, weightSum > 0, observed.count == weights.count else { return 1 }
        var chi2 = 0.0
        var df = -1
        for (o, w) in zip(observed, weights) where w > 0 {
            let expected = total * w / weightSum
            chi2 += (Double(o) - expected) * (Double(o) - expected) / expected
            df += 1
        }
        guard df >= 1 else { return 1 }
        return regularizedGammaQ(Double(df) / 2, chi2 / 2)
    }

    /// Q(a, x) = Γ(a, x) / Γ(a): the χ² survival function is Q(df/2, χ²/2).
    static func regularizedGammaQ(_ a: Double, _ x: Double) -> Double {
        guard x > 0 else { return 1 }
        let lnGammaA: Double = lgamma(a)
        if x < a + 1 {
            // Series for P(a, x).
            var sum = 1 / a, term = 1 / a, n = a
            for _ in 0..<500 {
                n += 1
                term *= x / n
                sum += term
                if abs(term) < abs(sum) * 1e-15 { break }
            }
            return max(0, 1 - sum * exp(-x + a * log(x) - lnGammaA))
        }
        // Continued fraction for Q(a, x) (modified Lentz).
        let tiny = 1e-300
        var b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d
        for i in 1...500 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return min(1, exp(-x + a * log(x) - lnGammaA) * h)
    }

    /// Wilson score interval (95%) for a rate of `successes` in `trials`.
    public static func wilsonInterval(successes: Int, trials: Int, z: Double = 1.959964) -> (low: Double, high: Double) {
        guard trials > 0 else { return (0, 1) }
        let n = Double(trials), p = Double(successes) / n
        let denom = 1 + z * z / n
        let centre = (p + z * z / (2 * n)) / denom
        let half = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
        return (max(0, centre - half), min(1, centre + half))
    }

    /// Difference of two rates (b − a) with a 95% normal-approximation interval.
    public static func rateDifference(
        successesA: Int, trialsA: Int, successesB: Int, trialsB: Int, z: Double = 1.959964
    ) -> (difference: Double, low: Double, high: Double) {
        guard trialsA > 0, trialsB > 0 else { return (0, -1, 1) }
        let pa = Double(successesA) / Double(trialsA), pb = Double(successesB) / Double(trialsB)
        let se = sqrt(pa * (1 - pa) / Double(trialsA) + pb * (1 - pb) / Double(trialsB))
        let d = pb - pa
        return (d, d - z * se, d + z * se)
    }
}
