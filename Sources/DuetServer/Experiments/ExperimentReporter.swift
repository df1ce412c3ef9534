import DuetAPI
import DuetEvaluation
import DuetRouting

/// What the admin API and the CLI show of the live experiments: their state (split, assignments,
/// SRM) and their report (per-arm counts, CTR intervals, log loss, differences to the first arm).
struct ExperimentReporter: Sendable {
    let experiments: ExperimentControl
    let models: ModelRegistry
    /// Cluster mode: counts across every replica.
    var cluster: ClusterService? = nil

    /// An experiment's arms and excluded requests as shown: across the cluster in cluster mode
    /// (scope `cluster`; `replica` when Redis does not answer), else this process's.
    func counts(_ key: String, _ stats: ExperimentStats) async -> (arms: [ExperimentStats.Arm], excluded: ExperimentStats.Excluded, scope: String) {
        guard let cluster else { return (stats.arms, stats.excluded, "process") }
        if let merged = await cluster.clusterStats(key, local: stats) { return (merged.arms, merged.excluded, "cluster") }
        return (stats.arms, stats.excluded, "replica")
    }

    func states() async -> [ExperimentState] {
        let s = experiments.snapshot
        var out: [ExperimentState] = []
        for config in s.table.experiments { out.append(await state(config, s)) }
        return out
    }

    func state(_ key: String) async throws -> ExperimentState {
        let s = experiments.snapshot
        guard let config = s.table.experiment(key) else { throw ExperimentError.unknownExperiment(key) }
        return await state(config, s)
    }

    func state(_ config: ExperimentConfig, _ snapshot: ExperimentControl.Snapshot) async -> ExperimentState {
        var counted: (arms: [ExperimentStats.Arm], excluded: ExperimentStats.Excluded, scope: String)?
        if let stats = snapshot.stats[config.key] { counted = await counts(config.key, stats) }
        let arms = counted?.arms ?? []
        let assigned = config.arms.indices.map { $0 < arms.count ? arms[$0].assigned : 0 }
        return ExperimentState(
            key: config.key, revision: snapshot.revisions[config.key]?.revision ?? 0, status: config.status.rawValue,
            srmPValue: ExperimentStatistics.srmPValue(observed: assigned, weights: config.arms.map(\.weight)),
            yaml: snapshot.revisions[config.key]?.config ?? "",
            arms: zip(config.arms, assigned).map { ExperimentState.Arm(name: $0.name, weight: $0.weight, model: $0.model.description, assigned: $1) },
            excluded: counted.map { Self.excluded($0.excluded) })
    }

    static func sequential(_ cs: MeanConfidenceSequence) -> ExperimentReport.Sequential? {
        guard let m = cs.mean, let i = cs.interval else { return nil }
        return .init(value: m, ci: [i.lowerBound, i.upperBound], count: cs.count, significant: cs.isSignificant)
    }

    static func excluded(_ e: ExperimentStats.Excluded) -> ExcludedRequests {
        ExcludedRequests(forced: e.forced, outside: e.outside)
    }

    /// The off-policy estimates from one arm's traffic, one per target arm that has events.
    static func policyEstimates(_ logged: ExperimentStats.Arm, arms: [Arm]) -> [ExperimentReport.PolicyEstimate] {
        func interval(_ e: Estimate?) -> ExperimentReport.Interval? {
            e.map { ExperimentReport.Interval(value: $0.value, ci: $0.interval.map { [$0.lowerBound, $0.upperBound] }) }
        }
        return zip(arms, logged.policyValues).compactMap { arm, v in
            guard v.count > 0 else { return nil }
            return ExperimentReport.PolicyEstimate(
                target: arm.name, events: v.count, ips: interval(v.ips.estimate()), snips: interval(v.snips.estimate()), dr: interval(v.dr.estimate()))
        }
    }

    func report(_ key: String) async throws -> ExperimentReport {
        let s = experiments.snapshot
        guard let config = s.table.experiment(key), let stats = s.stats[key] else {
            throw ExperimentError.unknownExperiment(key)
        }
        let (arms, excluded, scope) = await counts(key, stats)
        let rows = zip(config.arms, arms).map { arm, a -> ExperimentReport.Arm in
            let ci = ExperimentStatistics.wilsonInterval(successes: a.clicks, trials: a.feedback)
            return ExperimentReport.Arm(
                arm: arm.name, model: arm.model.description, requests: a.requests, feedback: a.feedback, clicks: a.clicks,
                ctr: a.feedback > 0 ? Double(a.clicks) / Double(a.feedback) : 0, ctrLow: ci.low, ctrHigh: ci.high,
                logloss: a.logloss, versions: models.slot(arm.model.slot).versions.count,
                explore: arm.explore.description, policyEstimates: Self.policyEstimates(a, arms: config.arms), users: a.assigned)
        }
        var differences: [ExperimentReport.Difference] = []
        if let base = arms.first {
            for (arm, a) in zip(config.arms, arms).dropFirst() {
                let d = ExperimentStatistics.rateDifference(successesA: base.clicks, trialsA: base.feedback, successesB: a.clicks, trialsB: a.feedback)
                differences.append(ExperimentReport.Difference(arm: arm.name, baseline: config.arms[0].name, difference: d.difference, low: d.low, high: d.high))
            }
        }
        let comparisons = zip(config.arms, arms).dropFirst().map { arm, a in
            ExperimentReport.Comparison(
                arm: arm.name, baseline: config.arms[0].name, pairedLogloss: a.pairedLoss.flatMap(Self.sequential),
                userCTR: a.userCTR.flatMap { cs -> ExperimentReport.UserCTR? in
                    guard let d = cs.difference, let i = cs.interval else { return nil }
                    return ExperimentReport.UserCTR(
                        arm: cs.treatment.mean, armUsers: cs.treatment.count, baseline: cs.control.mean, baselineUsers: cs.control.count,
                        difference: .init(value: d, ci: [i.lowerBound, i.upperBound], count: cs.treatment.count + cs.control.count, significant: cs.isSignificant))
                })
        }
        return ExperimentReport(
            experiment: key, revision: stats.revision,
            srmPValue: ExperimentStatistics.srmPValue(observed: arms.map(\.assigned), weights: config.arms.map(\.weight)), arms: rows,
            differences: differences, excluded: Self.excluded(excluded), comparisons: comparisons, scope: scope)
    }
}
