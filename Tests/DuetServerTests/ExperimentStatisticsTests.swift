@testable import DuetServer
import Testing

@Suite struct ExperimentStatisticsTests {
    // Reference values from scipy.stats.chi2.sf.
    @Test func chiSquareSurvivalMatchesScipy() {
        #expect(abs(ExperimentStatistics.regularizedGammaQ(0.5, 3.841459 / 2) - 0.05) < 1e-6)
        #expect(abs(ExperimentStatistics.regularizedGammaQ(1.0, 5.991465 / 2) - 0.05) < 1e-6)
        #expect(abs(ExperimentStatistics.regularizedGammaQ(0.5, 10.827566 / 2) - 0.001) < 1e-7)
        #expect(abs(ExperimentStatistics.regularizedGammaQ(2.5, 1.0) - 0.8491450) < 1e-6)
    }

    @Test func balancedSplitHasNoMismatchAndSkewedSplitDoes() {
        #expect(ExperimentStatistics.srmPValue(observed: [6000, 4000], weights: [0.6, 0.4]) > 0.99)
        #expect(ExperimentStatistics.srmPValue(observed: [5000, 5000], weights: [0.6, 0.4]) < 1e-10)
        #expect(ExperimentStatistics.srmPValue(observed: [0, 0], weights: [0.5, 0.5]) == 1)
    }

    @Test func wilsonIntervalBracketsTheRate() {
        let (low, high) = ExperimentStatistics.wilsonInterval(successes: 50, trials: 1000)
        #expect(low < 0.05 && 0.05 < high)
        #expect(abs(low - 0.03813) < 1e-4 && abs(high - 0.06531) < 1e-4)
    }

    /// Cluster mode sends a user to the shared filter only when `served` says it was new here.
    @Test func servedSaysWhetherTheUserWasNewHere() {
        let stats = ExperimentStats(revision: 1, arms: 2)
        #expect(stats.served(arm: 0, user: "a", inExperiment: true, forced: false))
        #expect(!stats.served(arm: 0, user: "a", inExperiment: true, forced: false))
        #expect(stats.served(arm: 1, user: "b", inExperiment: true, forced: false))
        #expect(!stats.served(arm: 1, user: "c", inExperiment: false, forced: false), "outside the experiment: not counted")
        #expect(!stats.served(arm: 1, user: "d", inExperiment: true, forced: true), "forced: not counted")
        #expect(stats.arms.map(\.requests) == [2, 1] && stats.arms.map(\.assigned) == [1, 1])
    }
}
