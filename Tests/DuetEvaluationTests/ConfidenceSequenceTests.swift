import DuetEvaluation
import Foundation
import Testing

/// The normal-mixture boundary (Howard et al. 2021) and the always-valid intervals built on it,
/// checked under continuous monitoring: simulated streams, each looked at after every observation.
@Suite struct ConfidenceSequenceTests {
    @Test func theBoundaryIsTheNormalMixtureFormula() {
        let b = NormalMixtureBoundary(alpha: 0.05, optimalAt: 100)
        // ρ = 100 / (2 log 20 + log(1 + 2 log 20)); radius = √((v + ρ)(2 log 20 + log(1 + v/ρ))).
        #expect(abs(b.rho - 100 / (2 * log(20.0) + log(1 + 2 * log(20.0)))) < 1e-12)
        #expect(abs(b.radius(100) - 30.35208990376253) < 1e-9)
        #expect(abs(b.radius(0) - (b.rho * 2 * log(20.0)).squareRoot()) < 1e-12)
        // Two processes: one more log(1 + V/ρ) term.
        #expect(abs(b.threshold(100, 0) - b.threshold(100)) < 1e-12)
    }

    @Test func rhoMakesTheBoundaryTightestWhereItWasPlanned() {
        for v in [10.0, 1_000, 100_000] {
            let best = NormalMixtureBoundary(optimalAt: v).radius(v)
            let exact = stride(from: -3.0, through: 3.0, by: 0.001).map { NormalMixtureBoundary(rho: v * exp($0)).radius(v) }.min()!
            #expect(best <= exact * 1.001)
            // ≈1.55× the fixed-sample half-width 1.96√v: the price of looking at every time.
            #expect(abs(best / (1.959963984540054 * v.squareRoot()) - 1.5486) < 0.001)
        }
    }

    /// (a) CTR per arm, the user as the unit: 2,000 A/A streams of 5,000 users (Bernoulli 5%),
    /// half to each arm, the interval looked at after every user. The fraction of streams whose
    /// interval ever excludes the true difference 0 is at most α (plus simulation noise).
    @Test func differenceOfBernoulliMeansCoversUnderContinuousMonitoring() {
        let rate = everExcludes(streams: 2000, users: 5000, treatment: 0.05, control: 0.05, variance: .estimated, seed: 1)
        #expect(rate <= 0.05 + 0.01, "ever excluded the truth in \(rate) of the streams")
    }

    /// The same with a real difference (8% vs 5%, unequal allocation): the interval keeps covering
    /// 0.03, and it finds the difference.
    @Test func differenceCoversARealEffectAndFindsIt() {
        var significant = 0
        let rate = everExcludes(
            streams: 1000, users: 5000, treatment: 0.08, control: 0.05, treatmentShare: 0.3, variance: .estimated, seed: 2,
            significant: &significant)
        #expect(rate <= 0.05 + 0.01, "ever excluded the truth in \(rate) of the streams")
        #expect(significant > 300, "significant at the end in \(significant) of 1000 streams")
    }

    /// `.bounded` holds at every sample size by construction; rare events (0.5%) make `.estimated`'s
    /// running variance start at zero, which its pseudo-observations must cover.
    @Test func boundedAndRareEventIntervalsCover() {
        #expect(everExcludes(streams: 500, users: 5000, treatment: 0.3, control: 0.3, variance: .bounded, seed: 3) <= 0.05)
        #expect(everExcludes(streams: 1000, users: 5000, treatment: 0.005, control: 0.005, treatmentShare: 0.2, variance: .estimated, seed: 4) <= 0.06)
    }

    /// (b) the paired log-loss difference per event: skewed (most events move the loss a little, a
    /// rare click a lot), mean exactly 0. 2,000 streams of 5,000 events, looked at after every event.
    @Test func meanOfPairedDifferencesCoversUnderContinuousMonitoring() {
        var rng = SeededGenerator(seed: 5)
        var ever = 0
        let streams = 2000
        for _ in 0..<streams {
            var cs = MeanConfidenceSequence(range: -1...1, plannedCount: 5000, plannedVariance: 0.0036)
            for _ in 0..<5000 {
                cs.add(rng.uniform() < 0.1 ? 0.18 : -0.02)  // mean 0.1·0.18 − 0.9·0.02 = 0
                if cs.excludes(0) {
                    ever += 1
                    break
                }
            }
        }
        let rate = Double(ever) / Double(streams)
        #expect(rate <= 0.05 + 0.01, "ever excluded the truth in \(rate) of the streams")
    }

    @Test func mergedSequencesEqualOnePassAndClipIsCounted() throws {
        var whole = MeanConfidenceSequence(range: -1...1, plannedCount: 100)
        var parts = [whole, whole]
        var rng = SeededGenerator(seed: 6)
        for i in 0..<500 {
            let x = 3 * rng.uniform() - 1.5
            whole.add(x)
            parts[i % 2].add(x)
        }
        parts[0].merge(parts[1])
        let a = try #require(whole.interval), b = try #require(parts[0].interval)
        #expect(abs(a.lowerBound - b.lowerBound) < 1e-12 && abs(a.upperBound - b.upperBound) < 1e-12)
        #expect(whole.clipped == parts[0].clipped && whole.clipped > 100)
        var d = DifferenceConfidenceSequence(range: 0...1, plannedCount: 10)
        #expect(d.interval == nil && !d.isSignificant)
        d.add(1, arm: .treatment)
        #expect(d.interval == nil)
        d.add(0, arm: .control)
        #expect(try #require(d.interval).contains(1) && d.difference == 1)
    }

    @Test func aClearEffectIsSignificant() throws {
        var cs = MeanConfidenceSequence(range: -1...1, plannedCount: 1000, plannedVariance: 0.04)
        var rng = SeededGenerator(seed: 8)
        for _ in 0..<2000 { cs.add(0.1 + 0.2 * (rng.uniform() - 0.5)) }
        #expect(cs.isSignificant)
        let i = try #require(cs.interval)
        #expect(i.contains(0.1) && i.lowerBound > 0.08)
    }

    /// Simulates `streams` experiments of `users` users each, treatment with probability
    /// `treatmentShare`, and returns the fraction whose interval ever excluded the true difference.
    func everExcludes(
        streams: Int, users: Int, treatment: Double, control: Double, treatmentShare: Double = 0.5,
        variance: ConfidenceSequenceVariance, seed: UInt64
    ) -> Double {
        var significant = 0
        return everExcludes(
            streams: streams, users: users, treatment: treatment, control: control, treatmentShare: treatmentShare, variance: variance,
            seed: seed, significant: &significant)
    }

    func everExcludes(
        streams: Int, users: Int, treatment: Double, control: Double, treatmentShare: Double = 0.5,
        variance: ConfidenceSequenceVariance, seed: UInt64, significant: inout Int
    ) -> Double {
        var rng = SeededGenerator(seed: seed)
        let truth = treatment - control
        var ever = 0
        for _ in 0..<streams {
            var cs = DifferenceConfidenceSequence(
                range: 0...1, variance: variance, plannedCount: users / 2, plannedVariance: control * (1 - control))
            var excluded = false
            for _ in 0..<users {
                let isTreatment = rng.uniform() < treatmentShare
                let p = isTreatment ? treatment : control
                cs.add(rng.uniform() < p ? 1 : 0, arm: isTreatment ? .treatment : .control)
                if !excluded && cs.excludes(truth) { excluded = true }
            }
            if excluded { ever += 1 }
            if cs.isSignificant { significant += 1 }
        }
        return Double(ever) / Double(streams)
    }
}
