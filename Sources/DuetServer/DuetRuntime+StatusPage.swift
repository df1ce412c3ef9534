import DuetStore
import Foundation

extension DuetRuntime {
    /// Gathers what the status page shows from the live snapshots and the audit log.
    func statusPage() async throws -> StatusPage {
        let s = experiments.snapshot
        let experimentsShown = s.table.experiments.map { config -> StatusPage.Experiment in
            let stats = s.stats[config.key]
            let arms = stats?.arms ?? []
            let series = stats?.ctrSeries ?? []
            return StatusPage.Experiment(
                key: config.key, revision: s.revisions[config.key]?.revision ?? 0, status: config.status.rawValue,
                srmPValue: s.srmPValue(config),
                arms: config.arms.enumerated().map { i, arm in
                    let a = i < arms.count ? arms[i] : ExperimentStats.Arm()
                    return StatusPage.Arm(
                        name: arm.name, model: arm.model.description, configuredShare: arm.weight, assigned: a.assigned,
                        requests: a.requests, clicks: a.clicks, feedback: a.feedback, ctrSeries: i < series.count ? series[i] : [])
                })
        }
        let audit = try await database.auditEntries(limit: 15).map {
            StatusPage.AuditRow(at: $0.at, actor: $0.actor, action: $0.action, target: $0.target, before: $0.before, after: $0.after)
        }
        return StatusPage(
            experiments: experimentsShown, slots: statusSlots(), featureVersions: await statusFeatureVersions(),
            featureStore: configuration.redisURL == nil ? "embedded store" : "redis", audit: audit,
            bucketSeconds: s.stats.values.first?.bucketSeconds ?? 10)
    }
}
