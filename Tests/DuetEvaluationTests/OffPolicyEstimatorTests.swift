import DuetEvaluation
import Foundation
import Testing

/// IPS, SNIPS and DR (Open Bandit Pipeline's definitions) against hand computations, merged
/// against one pass, and their intervals' coverage on a simulated bandit.
@Suite struct OffPolicyEstimatorTests {
    /// (reward, propensity, target probability, q̂(x, a), q̂(x, π_e)).
    static let rows: [(Double, Double, Double, Double, Double)] = [
        (1, 0.5, 1.0, 0.6, 0.7), (0, 0.25, 0.5, 0.2, 0.3), (1, 0.2, 0.0, 0.4, 0.1),
        (0, 0.5, 0.5, 0.1, 0.2), (1, 0.1, 0.3, 0.5, 0.45), (0, 1.0, 1.0, 0.3, 0.3),
    ]
    static let events = rows.map { try! LoggedEvent(reward: $0.0, propensity: $0.1, targetProbability: $0.2, predictedReward: $0.3, expectedPredictedReward: $0.4) }

    @Test func valuesEqualTheHandComputation() throws {
        var ips = IPSEstimator(), snips = SNIPSEstimator(), dr = DREstimator()
        for e in Self.events {
            ips.add(e)
            snips.add(e)
            dr.add(e)
        }
        // w = [2, 2, 0, 1, 3, 1]; w·r = [2, 0, 0, 0, 3, 0]
        #expect(abs(try #require(ips.estimate()).value - 5.0 / 6) < 1e-12)
        #expect(abs(try #require(snips.estimate()).value - 5.0 / 9) < 1e-12)
        // q̂(π) + w(r − q̂): 0.7+0.8, 0.3−0.4, 0.1+0, 0.2−0.1, 0.45+1.5, 0.3−0.3
        let drTerms = [1.5, -0.1, 0.1, 0.1, 1.95, 0.0]
        #expect(abs(try #require(dr.estimate()).value - drTerms.reduce(0, +) / 6) < 1e-12)
    }

    @Test func intervalsAreTheNormalApproximationAndTheDeltaMethod() throws {
        var ips = IPSEstimator(), snips = SNIPSEstimator()
        for e in Self.events {
            ips.add(e)
            snips.add(e)
        }
        let z = 1.959963984540054
        let terms = [2.0, 0, 0, 0, 3, 0], mean = 5.0 / 6
        let s2 = terms.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 5
        let ipsCI = try #require(ips.estimate()?.interval)
        #expect(abs(ipsCI.lowerBound - (mean - z * (s2 / 6).squareRoot())) < 1e-12)
        #expect(abs(ipsCI.upperBound - (mean + z * (s2 / 6).squareRoot())) < 1e-12)
        // Delta method: SE² = Σ (w r − R w)² / ((n − 1) n w̄²).
        let w = [2.0, 2, 0, 1, 3, 1], r = [1.0, 0, 1, 0, 1, 0], ratio = 5.0 / 9, wbar = 9.0 / 6
        let residual = zip(w, r).map { ($0 * $1 - ratio * $0) * ($0 * $1 - ratio * $0) }.reduce(0, +) / 5
        let se = (residual / 6).squareRoot() / wbar
        let snipsCI = try #require(snips.estimate()?.interval)
        #expect(abs(snipsCI.lowerBound - (ratio - z * se)) < 1e-12 && abs(snipsCI.upperBound - (ratio + z * se)) < 1e-12)
    }

    @Test func mergedShardsEqualOnePass() throws {
        var rng = SeededGenerator(seed: 11)
        let events = (0..<1000).map { _ in
            try! LoggedEvent(
                reward: rng.uniform() < 0.3 ? 1 : 0, propensity: 0.05 + 0.9 * rng.uniform(), targetProbability: rng.uniform(),
                predictedReward: rng.uniform(), expectedPredictedReward: rng.uniform())
        }
        struct Estimators {
            var ips = IPSEstimator(), snips = SNIPSEstimator(), dr = DREstimator()
            mutating func add(_ e: LoggedEvent) {
                ips.add(e)
                snips.add(e)
                dr.add(e)
            }
            mutating func merge(_ o: Estimators) {
                ips.merge(o.ips)
                snips.merge(o.snips)
                dr.merge(o.dr)
            }
            var estimates: [Estimate?] { [ips.estimate(), snips.estimate(), dr.estimate()] }
        }
        var whole = Estimators()
        var parts = Array(repeating: Estimators(), count: 3)
        for (i, e) in events.enumerated() {
            whole.add(e)
            parts[i % 3].add(e)
        }
        var merged = parts[0]
        merged.merge(parts[1])
        merged.merge(parts[2])
        for (one, two) in zip(whole.estimates, merged.estimates) {
            let a = try #require(one), b = try #require(two)
            #expect(a.count == 1000 && b.count == 1000)
            #expect(abs(a.value - b.value) < 1e-12)
            let i = try #require(a.interval), j = try #require(b.interval)
            #expect(abs(i.lowerBound - j.lowerBound) < 1e-12 && abs(i.upperBound - j.upperBound) < 1e-12)
        }
    }

    @Test func badEventsAreRefusedByField() {
        #expect(throws: OffPolicyError(.badPropensity, "propensity 0.0 is not within (0, 1]")) {
            try LoggedEvent(reward: 1, propensity: 0, targetProbability: 1)
        }
        #expect((try? LoggedEvent(reward: 2, propensity: 0.5, targetProbability: 1)) == nil)
        #expect((try? LoggedEvent(reward: 1, propensity: 0.5, targetProbability: 1.5)) == nil)
        #expect((try? LoggedEvent(reward: 1, propensity: .nan, targetProbability: 1)) == nil)
        #expect((try? LoggedEvent(reward: 1, propensity: 0.5, targetProbability: 1, predictedReward: .infinity)) == nil)
    }

    @Test func emptyAndWeightlessLogsHaveNoEstimate() throws {
        #expect(IPSEstimator().estimate() == nil && SNIPSEstimator().estimate() == nil && DREstimator().estimate() == nil)
        var snips = SNIPSEstimator()
        snips.add(try LoggedEvent(reward: 1, propensity: 0.5, targetProbability: 0))
        #expect(snips.estimate() == nil)
        var ips = IPSEstimator()
        ips.add(try LoggedEvent(reward: 1, propensity: 0.5, targetProbability: 1))
        #expect(ips.estimate()?.value == 2 && ips.estimate()?.interval == nil)
    }

    /// A 3-armed bandit logged uniformly, a stochastic target policy: over 300 logs of 2,000 events,
    /// each estimator's 95% interval covers the true value about 95% of the time, and DR with the
    /// true reward model is tighter than IPS.
    @Test func intervalsCoverTheTrueValueOnASimulatedBandit() throws {
        let ctr = [0.1, 0.3, 0.6], target = [0.2, 0.3, 0.5]
        let truth = zip(ctr, target).map(*).reduce(0, +)
        let qhat = ctr.map { $0 + 0.05 }  // a slightly wrong reward model
        var rng = SeededGenerator(seed: 42)
        var covered = [0, 0, 0], width = [0.0, 0.0, 0.0]
        let logs = 300
        for _ in 0..<logs {
            var ips = IPSEstimator(), snips = SNIPSEstimator(), dr = DREstimator()
            for _ in 0..<2000 {
                let a = Int(rng.next() % 3)
                let r: Double = rng.uniform() < ctr[a] ? 1 : 0
                let e = try LoggedEvent(
                    reward: r, propensity: 1.0 / 3, targetProbability: target[a], predictedReward: qhat[a],
                    expectedPredictedReward: zip(target, qhat).map(*).reduce(0, +))
                ips.add(e); snips.add(e); dr.add(e)
            }
            for (k, est) in [ips.estimate(), snips.estimate(), dr.estimate()].enumerated() {
                let i = try #require(est?.interval)
                if i.contains(truth) { covered[k] += 1 }
                width[k] += i.upperBound - i.lowerBound
            }
        }
        for k in 0..<3 {
            let rate = Double(covered[k]) / Double(logs)
            #expect(rate > 0.91 && rate < 0.99, "estimator \(k): coverage \(rate)")
        }
        #expect(width[2] < width[0] * 0.9, "DR \(width[2]) vs IPS \(width[0])")
    }

    @Test func theNormalQuantileIsRight() {
        #expect(abs(StandardNormal.quantile(0.975) - 1.959963984540054) < 1e-12)
        #expect(abs(StandardNormal.quantile(0.5)) < 1e-15)
        #expect(abs(StandardNormal.cdf(-1.6448536269514722) - 0.05) < 1e-12)
    }

    /// No click among the events the target would have chosen: IPS and SNIPS are 0, and no interval
    /// is claimed (a normal interval would be [0, 0], certainty the data do not give).
    @Test func allEqualTermsGiveNoInterval() throws {
        var ips = IPSEstimator(), snips = SNIPSEstimator()
        for i in 0..<500 {
            let e = try LoggedEvent(reward: 0, propensity: 0.02, targetProbability: i % 50 == 0 ? 1 : 0)
            ips.add(e)
            snips.add(e)
        }
        let a = try #require(ips.estimate()), b = try #require(snips.estimate())
        #expect(a.value == 0 && a.interval == nil && a.count == 500)
        #expect(b.value == 0 && b.interval == nil)
        // One click among them: an interval again.
        ips.add(try LoggedEvent(reward: 1, propensity: 0.02, targetProbability: 1))
        #expect(ips.estimate()?.interval != nil)
    }
}

