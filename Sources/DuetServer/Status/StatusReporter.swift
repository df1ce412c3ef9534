import DuetAPI
import DuetFeatures
import DuetModels
import DuetStore
import Foundation

/// Gathers what the status page at `GET /` shows from the live snapshots and the audit log.
struct StatusReporter: Sendable {
    let experiments: ExperimentControl
    let models: ModelRegistry
    let features: any FeatureReader
    let database: DuetDatabase
    /// "redis" or "embedded store".
    let featureStore: String
    var cluster: ClusterService? = nil

    /// The page; the audit rows only for an admin (`withAudit`).
    func page(withAudit: Bool) async throws -> StatusPage {
        let s = experiments.snapshot
        let pinProblems = models.pinProblems
        let experimentsShown = s.table.experiments.map { config -> StatusPage.Experiment in
            let stats = s.stats[config.key]
            let arms = stats?.arms ?? []
            let series = stats?.ctrSeries ?? []
            return StatusPage.Experiment(
                key: config.key, revision: s.revisions[config.key]?.revision ?? 0, status: config.status.rawValue,
                srmPValue: s.srmPValue(config),
                arms: config.arms.enumerated().map { i, arm in
                    let a = i < arms.count ? arms[i] : ExperimentStats.Arm()
                    let prefix = "experiment \(config.key) arm \(arm.name): "
                    return StatusPage.Arm(
                        name: arm.name, model: arm.model.description, configuredShare: arm.weight, assigned: a.assigned,
                        requests: a.requests, clicks: a.clicks, feedback: a.feedback, ctrSeries: i < series.count ? series[i] : [],
                        failing: pinProblems.first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) })
                },
                forced: stats?.excluded.forced ?? 0, outside: stats?.excluded.outside ?? 0)
        }
        let audit = withAudit ? try await database.auditEntries(limit: 15).map(AuditRecord.init) : nil
        let slots = models.slots.map { slot in
            let current = slot.current?.id, healthy = Set(slot.healthyIDs)
            return StatusPage.Slot(name: slot.name, versions: slot.versions.reversed().map {
                StatusPage.Version(
                    id: $0.id, createdAt: $0.createdAt.timeIntervalSince1970, examples: $0.examples, logloss: $0.metrics.logloss,
                    current: $0.id == current, healthy: healthy.contains($0.id))
            })
        }
        let featureVersions = await features.currentVersions().sorted { $0.key < $1.key }.map { (set: $0.key, version: $0.value) }
        return StatusPage(
            experiments: experimentsShown, slots: slots, featureVersions: featureVersions,
            featureStore: featureStore, audit: audit, bucketSeconds: s.stats.values.first?.bucketSeconds ?? 10,
            guardrail: models.lastGuardrailRollback.map { ($0.at.timeIntervalSince1970, $0.actor, $0.from, $0.to, $0.why) },
            cluster: cluster?.statusLine())
    }
}
