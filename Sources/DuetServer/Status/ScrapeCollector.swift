import DuetFeatures
import Synchronization

/// Brings the counters kept elsewhere (the feature store, the prepared-feature caches, the learner,
/// the experiments' SRM) into the Prometheus registry when `/metrics` is scraped, so the request
/// path only bumps plain atomics.
final class ScrapeCollector: Sendable {
    let metrics: DuetMetrics
    let features: any FeatureReader
    let preparer: FeaturePreparer
    let learner: LearnerService
    let experiments: ExperimentControl
    let impressions: ImpressionStore<Impression>
    let cluster: ClusterService?
    private let reportedFeatures = Mutex(FeatureStoreMetrics())
    private let reportedPrepared = Mutex([String: Int]())

    init(metrics: DuetMetrics, features: any FeatureReader, preparer: FeaturePreparer, learner: LearnerService, experiments: ExperimentControl,
         impressions: ImpressionStore<Impression>, cluster: ClusterService? = nil) {
        self.impressions = impressions
        self.cluster = cluster
        self.metrics = metrics
        self.features = features
        self.preparer = preparer
        self.learner = learner
        self.experiments = experiments
    }

    /// Updates the registry, then writes the text exposition format.
    func scrape() -> [UInt8] {
        learner.reportMetrics()
        cluster?.reportMetrics(metrics)
        metrics.impressions.set(to: Double(impressions.entries))
        metrics.impressionBytes.set(to: Double(impressions.bytes))
        let now = features.metrics()
        let before = reportedFeatures.withLock { r -> FeatureStoreMetrics in defer { r = now }; return r }
        if now.cacheHits > before.cacheHits { metrics.featureCacheHits.increment(by: Int64(now.cacheHits - before.cacheHits)) }
        if now.cacheMisses > before.cacheMisses { metrics.featureCacheMisses.increment(by: Int64(now.cacheMisses - before.cacheMisses)) }
        if now.redisErrors > before.redisErrors { metrics.redisErrors.increment(by: Int64(now.redisErrors - before.redisErrors)) }
        if now.pointerRefreshFailures > before.pointerRefreshFailures { metrics.featurePointerRefreshFailures.increment(by: Int64(now.pointerRefreshFailures - before.pointerRefreshFailures)) }
        if now.degradedReads > before.degradedReads { metrics.featureDegraded.increment(by: Int64(now.degradedReads - before.degradedReads)) }
        let prepared = [
            ("user", "hit", preparer.preparedUsers.hits), ("user", "miss", preparer.preparedUsers.misses),
            ("candidate", "hit", preparer.preparedCandidates.hits), ("candidate", "miss", preparer.preparedCandidates.misses),
        ]
        for (kind, result, counter) in prepared {
            let value = counter.load(ordering: .relaxed)
            let last = reportedPrepared.withLock { r in defer { r[kind + result] = value }; return r[kind + result] ?? 0 }
            metrics.preparedFeatures(kind: kind, result: result).increment(by: Int64(max(0, value - last)))
        }
        for (key, p) in experiments.srm() {
            metrics.srmPValue(key).set(to: p)
        }
        reportExperiments()
        return metrics.emit()
    }

    /// Every experiment's users per arm, excluded requests and live off-policy estimates (as in its report).
    func reportExperiments() {
        let s = experiments.snapshot
        for config in s.table.experiments {
            guard let stats = s.stats[config.key] else { continue }
            let excluded = stats.excluded
            metrics.experimentExcluded(experiment: config.key, reason: "forced").set(to: Double(excluded.forced))
            metrics.experimentExcluded(experiment: config.key, reason: "outside").set(to: Double(excluded.outside))
            for (arm, counts) in zip(config.arms, stats.arms) {
                metrics.experimentUsers(experiment: config.key, arm: arm.name).set(to: Double(counts.assigned))
            }
            for (loggedBy, counts) in zip(config.arms, stats.arms) {
                for e in ExperimentReporter.policyEstimates(counts, arms: config.arms) {
                    for (estimator, interval) in [("ips", e.ips), ("snips", e.snips), ("dr", e.dr)] {
                        guard let interval else { continue }
                        func set(_ part: String, _ v: Double) {
                            metrics.policyValue(experiment: config.key, arm: e.target, loggedBy: loggedBy.name, estimator: estimator, part: part).set(to: v)
                        }
                        set("value", interval.value)
                        if let ci = interval.ci, ci.count == 2 {
                            set("ci_low", ci[0])
                            set("ci_high", ci[1])
                        }
                    }
                }
            }
        }
    }
}
