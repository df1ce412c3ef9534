import DuetAPI
import DuetCluster
import DuetEvaluation
import DuetModels
import Foundation

/// `POST /v1/feedback`: join the label with its impression, append it to the feedback log (the
/// event is acknowledged only once written there), let the guardrail score it with both models,
/// hand it to the learner, count it for the arm.
final class FeedbackService: Sendable {
    let impressions: ImpressionStore<Impression>
    let log: FeedbackLog
    /// Cluster mode: feedback goes to the cluster's stream (the trainer learns it from there).
    let cluster: ClusterService?
    /// The live experiments (cluster mode: an impression from another replica takes their counters).
    let experiments: ExperimentControl?
    let models: ModelRegistry
    let guardrail: Guardrail
    let metrics: DuetMetrics
    let clock: any WallClock

    init(
        impressions: ImpressionStore<Impression>, log: FeedbackLog, cluster: ClusterService? = nil, experiments: ExperimentControl? = nil,
        models: ModelRegistry, guardrail: Guardrail, metrics: DuetMetrics, clock: any WallClock
    ) {
        self.impressions = impressions
        self.log = log
        self.cluster = cluster
        self.experiments = experiments
        self.models = models
        self.guardrail = guardrail
        self.metrics = metrics
        self.clock = clock
    }

    func feedback(_ request: FeedbackRequest, labels: inout RequestLabels) async throws -> FeedbackResponse {
        guard !request.requestID.isEmpty else { throw RequestError.invalidField("request_id", "request_id must not be empty") }
        guard !request.item.isEmpty else { throw RequestError.invalidField("item", "item must not be empty") }
        guard request.label.isFinite, (0...1).contains(request.label) else {
            throw RequestError.invalidField("label", "label must be 0, 1 or a reward within [0, 1], got \(request.label)")
        }
        let impression: Impression
        switch impressions.lookup(request.requestID) {
        case .found(let i): impression = i
        case .expired:
            metrics.feedbackRejected("expired").increment()
            throw ServingError.impressionExpired(requestID: request.requestID)
        case .unknown:
            // Cluster mode: maybe another replica served it.
            if let cluster, let experiments, let bytes = await cluster.fetchImpression(request.requestID),
               let remote = ImpressionRecord.decode(bytes, experiments: experiments.snapshot) {
                impression = remote
            } else {
                metrics.feedbackRejected("unknown_request").increment()
                throw ServingError.unknownRequest(requestID: request.requestID)
            }
        }
        labels.experiment = impression.experiment
        labels.arm = impression.arm
        guard let item = impression.item(request.item) else {
            metrics.feedbackRejected("unknown_item").increment()
            throw ServingError.unknownItem(item: request.item, requestID: request.requestID)
        }
        guard impression.consume(request.item) else {
            metrics.feedbackRejected("duplicate").increment()
            throw ServingError.duplicateFeedback(item: request.item, requestID: request.requestID)
        }
        guard let learner = models.learner else {
            impression.release(request.item)
            throw ServingError.modelNotReady("the online learner has not started (no static model yet)")
        }
        let record = FeedbackRecord(features: item.features, label: request.label).bytes
        var sequence: UInt64?
        if let cluster {
            // The stream is the log: acknowledged once appended; the trainer (maybe another replica) learns it.
            let appended: String?
            do {
                appended = try await cluster.appendFeedback(record, requestID: request.requestID, item: request.item)
            } catch {
                impression.release(request.item)
                metrics.feedbackRejected("log_unavailable").increment()
                throw ServingError.feedbackLogUnavailable("\(error)")
            }
            guard appended != nil else {
                metrics.feedbackRejected("duplicate").increment()
                throw ServingError.duplicateFeedback(item: request.item, requestID: request.requestID)
            }
        } else {
            guard learner.hasRoom else {
                impression.release(request.item)
                metrics.feedbackRejected("queue_full").increment()
                throw ServingError.learnerBusy
            }
            do {
                sequence = try await log.append(record)
            } catch {
                impression.release(request.item)
                metrics.feedbackRejected("log_unavailable").increment()
                throw ServingError.feedbackLogUnavailable("\(error)")
            }
        }
        var predictions = EventPredictions(features: item.features)
        await guardrail.observe(experiment: impression.experiment, predictions: &predictions, label: request.label)
        if let sequence {
            learner.submit(OnlineLearner.Example(features: item.features, label: request.label, sequence: sequence), force: true)
        }
        if impression.counted {
            impression.stats.feedback(arm: impression.armIndex, label: request.label, predicted: item.score, now: clock.now())
            if request.item == impression.ids.first, !impression.targets.isEmpty {
                impression.stats.offPolicy(arm: impression.armIndex, events: Self.offPolicyEvents(impression, reward: request.label))
            }
            impression.stats.pairedLoss(pairedLosses(impression, predictions: &predictions, label: request.label))
            if impression.choseAmong {
                impression.stats.choiceFeedback(arm: impression.armIndex, user: impression.userID, label: request.label)
            }
        }
        metrics.feedback(experiment: impression.experiment, arm: impression.arm, label: request.label)
        return FeedbackResponse(accepted: true, experiment: impression.experiment, arm: impression.arm)
    }

    /// Every arm's model's log loss on the event (nil for an arm whose model is not loaded or hashes
    /// features differently from the model that served it).
    func pairedLosses(_ impression: Impression, predictions: inout EventPredictions, label: Double) -> [Double?] {
        guard impression.arms.count > 1, let served = models.slot(impression.slot).version(impression.versionID) ?? models.slot(impression.slot).current
        else { return [] }
        var losses: [Double?] = []
        losses.reserveCapacity(impression.arms.count)
        for arm in impression.arms {
            guard let v = models.serving(arm.model), v.hashesLike(served) else { losses.append(nil); continue }
            let p = predictions.predict(v)
            losses.append(p.isFinite ? ProgressiveMetrics.logloss(p: p, label: label) : nil)
        }
        return losses
    }

    /// The feedback on an impression's first item as one logged event per target arm: the reward,
    /// the serving arm's propensity for that item, and the target arm's probability and model values.
    static func offPolicyEvents(_ impression: Impression, reward: Double) -> [(target: Int, event: LoggedEvent)] {
        guard let propensity = impression.propensities.first.map(Double.init) else { return [] }
        return impression.targets.compactMap { t in
            guard let event = try? LoggedEvent(
                reward: reward, propensity: propensity, targetProbability: t.probability,
                predictedReward: t.predicted, expectedPredictedReward: t.expected)
            else { return nil }
            return (t.arm, event)
        }
    }
}
