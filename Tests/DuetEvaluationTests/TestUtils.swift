import DuetEvaluation
import Foundation

/// SplitMix64: a seedable generator, so every simulated stream is the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }
}

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
