import DuetModels
import DuetRouting
import Prometheus
import Synchronization

/// Duet's Prometheus metrics, on one registry (no global bootstrap, so tests can make their own):
/// the catalog of every metric name, label and help text the server exports.
///
/// Handles are cached per label set, so the request path allocates nothing for metrics after the
/// first request of each (route, experiment, arm, status) combination.
public final class DuetMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    static let latencyBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
    ]

    struct RequestKey: Hashable {
        var route: String
        var experiment: String
        var arm: String
        var status: Int
    }

    struct ArmKey: Hashable {
        var experiment: String
        var arm: String
    }

    struct RequestHandles {
        var duration: DurationHistogram
        var count: Counter
    }

    struct ArmHandles {
        var recommendations: Counter
        var feedback: Counter
        var clicks: Counter
    }

    private let requestHandles = Mutex<[RequestKey: RequestHandles]>([:])
    private let armHandles = Mutex<[ArmKey: ArmHandles]>([:])
    private let labelled = Mutex<[String: Gauge]>([:])
    private let labelledCounters = Mutex<[String: Counter]>([:])

    public let onlineUpdates: Counter
    public let featureFetch: DurationHistogram
    public let featureCacheHits: Counter
    public let featureCacheMisses: Counter
    public let featureDegraded: Counter
    public let redisErrors: Counter
    public let featurePointerRefreshFailures: Counter
    public let feedbackLogSequence: Gauge
    public let impressions: Gauge
    public let impressionBytes: Gauge
    public let learnerQueue: Gauge
    public let feedbackLogLearned: Gauge
    public let feedbackLogLag: Gauge
    public let swapDuration: DurationHistogram
    public let experimentApplies: Counter
    public let experimentReverts: Counter
    /// Cluster mode (0 in a single process).
    public let clusterTrainer: Gauge
    public let clusterReplicas: Gauge
    public let clusterStreamLag: Gauge
    public let clusterVersionsPublished: Gauge
    public let clusterVersionsApplied: Gauge
    public let clusterResyncs: Gauge
    public let clusterImpressionsDropped: Gauge

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        onlineUpdates = registry.makeCounter(descriptor: .duet("duet_online_updates_total", "SGD updates applied by the online learner"))
        featureFetch = registry.makeDurationHistogram(descriptor: .duet("duet_feature_fetch_duration_seconds", "Feature reads on the request path"), buckets: Self.latencyBuckets)
        featureCacheHits = registry.makeCounter(descriptor: .duet("duet_feature_cache_hits_total", "Feature rows served from the in-process cache"))
        featureCacheMisses = registry.makeCounter(descriptor: .duet("duet_feature_cache_misses_total", "Feature rows not in the in-process cache"))
        featureDegraded = registry.makeCounter(descriptor: .duet("duet_feature_degraded_reads_total", "Feature reads answered with defaults (store slow or down)"))
        redisErrors = registry.makeCounter(descriptor: .duet("duet_redis_errors_total", "Redis errors and timeouts"))
        impressions = registry.makeGauge(descriptor: .duet("duet_impressions", "Impressions held for the feedback join"))
        impressionBytes = registry.makeGauge(descriptor: .duet("duet_impression_bytes", "Bytes the held impressions take (estimated)"))
        learnerQueue = registry.makeGauge(descriptor: .duet("duet_learner_queue", "Feedback examples waiting for the online learner"))
        feedbackLogSequence = registry.makeGauge(descriptor: .duet("duet_feedback_log_sequence", "Sequence of the last feedback event written to the feedback log"))
        feedbackLogLearned = registry.makeGauge(descriptor: .duet("duet_feedback_log_learned_sequence", "Highest feedback-log sequence the online learner has learned"))
        feedbackLogLag = registry.makeGauge(descriptor: .duet("duet_feedback_log_lag", "Feedback events written to the log and not yet learned"))
        featurePointerRefreshFailures = registry.makeCounter(descriptor: .duet("duet_feature_pointer_refresh_failures_total", "Background refreshes of the feature version pointers that failed (the known versions keep serving)"))
        swapDuration = registry.makeDurationHistogram(descriptor: .duet("duet_model_swap_duration_seconds", "Time to swap a slot's current model version"), buckets: [.nanoseconds(100), .microseconds(1), .microseconds(10), .microseconds(100), .milliseconds(1), .milliseconds(10)])
        experimentApplies = registry.makeCounter(descriptor: .duet("duet_experiment_applies_total", "Experiment configs applied"))
        experimentReverts = registry.makeCounter(descriptor: .duet("duet_experiment_reverts_total", "Experiment configs reverted"))
        clusterTrainer = registry.makeGauge(descriptor: .duet("duet_cluster_trainer", "1 while this replica holds the trainer lease (cluster mode)"))
        clusterReplicas = registry.makeGauge(descriptor: .duet("duet_cluster_replicas", "Live replicas this replica sees (cluster mode)"))
        clusterStreamLag = registry.makeGauge(descriptor: .duet("duet_cluster_stream_lag_seconds", "On the trainer: age of the newest feedback-stream entry minus that of the last one read"))
        clusterVersionsPublished = registry.makeGauge(descriptor: .duet("duet_cluster_versions_published", "Versions this replica published as the trainer (since start)"))
        clusterVersionsApplied = registry.makeGauge(descriptor: .duet("duet_cluster_versions_applied", "Versions this replica applied from the trainer (since start)"))
        clusterResyncs = registry.makeGauge(descriptor: .duet("duet_cluster_resyncs", "Times this replica synced from the snapshot (since start)"))
        clusterImpressionsDropped = registry.makeGauge(descriptor: .duet("duet_cluster_impressions_not_copied", "Impressions not copied to Redis (queue full or Redis down): they join only where served"))
        // Every reason from 0, so an alert sees the first refusal as an increase.
        for reason in ModelFileError.Reason.allCases { _ = modelFilesRefused(reason) }
    }

    /// Records one HTTP request.
    public func recordRequest(route: String, experiment: String, arm: String, status: Int, duration: Duration) {
        let key = RequestKey(route: route, experiment: experiment, arm: arm, status: status)
        let handles = requestHandles.withLock { cache in
            if let h = cache[key] { return h }
            let labels = [("route", route), ("experiment", experiment), ("arm", arm), ("status", String(status))]
            let h = RequestHandles(
                duration: registry.makeDurationHistogram(descriptor: .duet("duet_http_request_duration_seconds", "HTTP request latency"), labels: labels, buckets: Self.latencyBuckets),
                count: registry.makeCounter(descriptor: .duet("duet_http_requests_total", "HTTP requests"), labels: [("route", route), ("status", String(status))]))
            cache[key] = h
            return h
        }
        handles.duration.record(duration)
        handles.count.increment()
    }

    func arm(_ experiment: String, _ arm: String) -> ArmHandles {
        let key = ArmKey(experiment: experiment, arm: arm)
        return armHandles.withLock { cache in
            if let h = cache[key] { return h }
            let labels = [("experiment", experiment), ("arm", arm)]
            let h = ArmHandles(
                recommendations: registry.makeCounter(descriptor: .duet("duet_recommendations_total", "Recommendations served"), labels: labels),
                feedback: registry.makeCounter(descriptor: .duet("duet_feedback_total", "Feedback events joined"), labels: labels),
                clicks: registry.makeCounter(descriptor: .duet("duet_clicks_total", "Positive feedback (label >= \(Click.threshold))"), labels: labels))
            cache[key] = h
            return h
        }
    }

    public func recommendation(experiment: String, arm: String) { self.arm(experiment, arm).recommendations.increment() }

    public func feedback(experiment: String, arm: String, label: Double) {
        let h = self.arm(experiment, arm)
        h.feedback.increment()
        if Click.isClick(label) { h.clicks.increment() }
    }

    // MARK: The catalog of labelled metrics

    /// The current version of a slot (numeric ids; else the count of kept versions).
    func modelVersion(_ slot: SlotName) -> Gauge {
        gauge("duet_model_version", label: "slot", value: slot.rawValue, help: "Current model version per slot (numeric ids; else a sequence)")
    }

    func lastPublish(_ slot: SlotName) -> Gauge {
        gauge("duet_model_last_publish_timestamp_seconds", label: "slot", value: slot.rawValue, help: "When the slot last got a new version")
    }

    func progressiveLogloss(_ slot: SlotName) -> Gauge {
        gauge("duet_progressive_logloss", label: "slot", value: slot.rawValue, help: "Progressive log loss of the slot's current version")
    }

    func versionsPublished(_ slot: SlotName) -> Counter {
        counter("duet_model_versions_published_total", labels: [("slot", slot.rawValue)], help: "Model versions published")
    }

    func rollbacks(slot: SlotName, reason: ModelRegistry.RollbackReason) -> Counter {
        counter("duet_model_rollbacks_total", labels: [("slot", slot.rawValue), ("reason", reason.rawValue)], help: "Model rollbacks")
    }

    func experimentRevision(_ experiment: String) -> Gauge {
        gauge("duet_experiment_revision", label: "experiment", value: experiment, help: "Live revision of each experiment")
    }

    func srmPValue(_ experiment: String) -> Gauge {
        gauge("duet_srm_p_value", label: "experiment", value: experiment, help: "Sample-ratio-mismatch chi-square p-value of the live revision")
    }

    /// Why a feedback request was refused (`expired`, `unknown_request`, `unknown_item`, `duplicate`, `queue_full`).
    func feedbackRejected(_ reason: String) -> Counter {
        counter("duet_feedback_rejected_total", labels: [("reason", reason)], help: "Feedback refused")
    }

    /// Model files refused on reading (static files, online checkpoints), by `ModelFileError.Reason`
    /// (`truncated`, `checksum`, `range`, `non_finite`…).
    func modelFilesRefused(_ reason: ModelFileError.Reason) -> Counter {
        counter("duet_model_files_refused_total", labels: [("reason", reason.rawValue)], help: "Model files refused (static files and online checkpoints)")
    }

    /// Prepared users and candidates reused (`hit`) or prepared (`miss`).
    func preparedFeatures(kind: String, result: String) -> Counter {
        counter("duet_prepared_features_total", labels: [("kind", kind), ("result", result)],
                help: "Users and candidates whose named and hashed features were reused (hit) or prepared (miss)")
    }

    /// A gauge with one label (`slot` or `experiment`), created on first use.
    private func gauge(_ name: String, label: String, value: String, help: String) -> Gauge {
        gauge(name, labels: [(label, value)], help: help)
    }

    private func gauge(_ name: String, labels: [(String, String)], help: String) -> Gauge {
        let id = name + labels.map { "\u{0}\($0.0)=\($0.1)" }.joined()
        return labelled.withLock { cache in
            if let g = cache[id] { return g }
            let g = registry.makeGauge(descriptor: .duet(name, help), labels: labels)
            cache[id] = g
            return g
        }
    }

    /// Distinct users counted for an arm (the SRM test's counts).
    func experimentUsers(experiment: String, arm: String) -> Gauge {
        gauge("duet_experiment_users", labels: [("experiment", experiment), ("arm", arm)],
              help: "Distinct users hashed into an experiment arm (forced and outside users excluded) in the live revision")
    }

    /// Requests of the live revision counted for no arm: `reason` forced or outside.
    func experimentExcluded(experiment: String, reason: String) -> Gauge {
        gauge("duet_experiment_excluded_requests", labels: [("experiment", experiment), ("reason", reason)],
              help: "Requests of forced users or of users outside the experiment, counted for no arm, in the live revision")
    }

    /// An off-policy estimate of arm `arm`'s policy value (first-item click rate) from the traffic
    /// `loggedBy` served: `part` is `value`, `ci_low` or `ci_high` (95%); `estimator` ips, snips or dr.
    func policyValue(experiment: String, arm: String, loggedBy: String, estimator: String, part: String) -> Gauge {
        let name = part == "value" ? "duet_policy_value" : "duet_policy_value_\(part)"
        return gauge(name, labels: [("experiment", experiment), ("arm", arm), ("logged_by", loggedBy), ("estimator", estimator)],
                     help: "Off-policy estimate (IPS, SNIPS, DR) of an arm's first-item click rate from another arm's exploring traffic" + (part == "value" ? "" : " (95% interval bound)"))
    }

    /// A counter with labels, created on first use.
    private func counter(_ name: String, labels: [(String, String)], help: String) -> Counter {
        let id = name + labels.map { "\u{0}\($0.0)=\($0.1)" }.joined()
        return labelledCounters.withLock { cache in
            if let c = cache[id] { return c }
            let c = registry.makeCounter(descriptor: .duet(name, help), labels: labels)
            cache[id] = c
            return c
        }
    }

    /// The text exposition format for `GET /metrics`.
    public func emit() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        registry.emit(into: &buffer)
        return buffer
    }
}

extension MetricNameDescriptor {
    /// A full metric name as given (no namespace/unit splitting) with its help text.
    static func duet(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}
