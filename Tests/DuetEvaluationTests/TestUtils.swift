import DuetEvaluation
import DuetModels
import Foundation

/// The tests' seeded generator: every simulated stream is the same on every run.
typealias SeededGenerator = SplitMix64

/// The χ² statistic of `observed` counts against `probabilities` (cells of probability 0 must be
/// empty and are left out), with its degrees of freedom.
func chiSquared(observed: [Int], probabilities: [Double]) -> (statistic: Double, degreesOfFreedom: Int) {
    let n = Double(observed.reduce(0, +))
    var statistic = 0.0, cells = 0
    for (o, p) in zip(observed, probabilities) {
        if p == 0 {
            precondition(o == 0, "a draw of probability 0")
            continue
        }
        let e = n * p
        statistic += (Double(o) - e) * (Double(o) - e) / e
        cells += 1
    }
    return (statistic, cells - 1)
}

/// The upper `p` quantile of χ² with `df` degrees of freedom (Wilson–Hilferty; within 1% for df ≥ 3).
func chiSquaredQuantile(_ p: Double, degreesOfFreedom df: Int) -> Double {
    let d = Double(df), z = StandardNormal.quantile(p)
    let a = 2 / (9 * d)
    return d * pow(1 - a + z * a.squareRoot(), 3)
}
