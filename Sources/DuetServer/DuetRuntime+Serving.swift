import DuetFeatures
import DuetModels
import DuetRouting
import Foundation
import Hummingbird

/// `POST /v1/recommend` and `POST /v1/feedback`.
extension DuetRuntime {
    static func featureValue(_ v: FieldValue) -> FeatureValue {
        switch v {
        case .string(let s): .string(s)
        case .float(let d): .number(d)
        case .int(let i): .number(Double(i))
        }
    }

    static func featureValues(_ values: [String: FieldValue]) -> [String: FeatureValue] {
        values.mapValues(featureValue)
    }

    func validate(_ r: RecommendRequest) throws -> Int {
        guard !r.experiment.isEmpty else { throw APIError.badField("experiment", "experiment must not be empty") }
        guard !r.user.isEmpty, r.user.utf8.count <= 256 else { throw APIError.badField("user", "user must be 1 to 256 bytes") }
        let k = r.k ?? 10
        guard k >= 1, k <= configuration.maxCandidates else {
            throw APIError.badField("k", "k must be between 1 and \(configuration.maxCandidates), got \(k)")
        }
        if let c = r.candidates {
            guard !c.isEmpty else { throw APIError.badField("candidates", "candidates must not be empty (omit it to rank the whole catalog)") }
            guard c.count <= configuration.maxCandidates else {
                throw APIError.badField("candidates", "at most \(configuration.maxCandidates) candidates, got \(c.count)")
            }
            if let i = c.firstIndex(where: { $0.isEmpty || $0.utf8.count > 256 }) {
                throw APIError.badField("candidates[\(i)]", "candidate ids must be 1 to 256 bytes")
            }
        }
        for (key, value) in r.context ?? [:] {
            guard !key.isEmpty else { throw APIError.badField("context", "context keys must not be empty") }
            if case .number(let d) = value, !d.isFinite || abs(d) > 1e6 {
                throw APIError.badField("context.\(key)", "context.\(key) must be a finite number within ±1e6")
            }
        }
        return k
    }

    func recommend(_ request: RecommendRequest, labels: inout RequestLabels) async throws -> RecommendResponse {
        let k = try validate(request)
        let snapshot = experiments.snapshot
        guard let assignment = snapshot.table.assign(experiment: request.experiment, user: request.user),
              let stats = snapshot.stats[request.experiment]
        else {
            throw APIError(.notFound, code: "unknown_experiment", message: "no experiment '\(request.experiment)'", field: "experiment")
        }
        labels.experiment = request.experiment
        labels.arm = assignment.arm
        let ref = assignment.model
        guard let slot = models.slot(ref.slot) else {
            throw APIError(.serviceUnavailable, code: "model_not_ready", message: "no model slot '\(ref.slot)'")
        }
        let version: ModelVersion
        if let pinned = ref.version {
            guard let v = slot.version(pinned) else {
                throw APIError(.serviceUnavailable, code: "model_not_ready", message: "version '\(pinned)' of slot '\(ref.slot)' is not loaded")
            }
            version = v
        } else {
            guard let v = slot.current else {
                throw APIError(.serviceUnavailable, code: "model_not_ready", message: "slot '\(ref.slot)' has no model yet")
            }
            version = v
        }

        // Features: the user's and the candidates', each set at one version.
        let fetchStart = ContinuousClock.now
        let candidates: [String]
        if let c = request.candidates {
            candidates = c
        } else {
            candidates = await features.entityIDs(set: configuration.itemFeatureSet).ids
        }
        let (userRead, itemRead) = await features.read(
            user: request.user, userSet: configuration.userFeatureSet, items: candidates, itemSet: configuration.itemFeatureSet)
        metrics.featureFetch.record(ContinuousClock.now - fetchStart)

        let user = userRead.rows.first.map { Self.featureValues($0.values) } ?? [:]
        var context: [String: FeatureValue] = [:]
        for (key, value) in request.context ?? [:] {
            switch value {
            case .string(let s): context[key] = .string(s)
            case .number(let d): context[key] = .number(d)
            }
        }
        let hasher = version.config.hasher
        let userNamed = FeatureNaming.userFeatures(user: user, context: context)
        let userHashed = hasher.hash(userNamed)
        var candidateFeatures: [[Feature]] = []
        candidateFeatures.reserveCapacity(candidates.count)
        for (i, id) in candidates.enumerated() {
            let item = i < itemRead.rows.count ? Self.featureValues(itemRead.rows[i].values) : [:]
            let itemNamed = FeatureNaming.itemFeatures(itemID: id, item: item, user: user)
            var itemHashed = hasher.hash(itemNamed)
            hasher.crossed(user: userNamed, userHashed: userHashed, item: itemNamed, itemHashed: itemHashed, into: &itemHashed)
            candidateFeatures.append(itemHashed)
        }
        var scratch = ScoringScratch()
        var scores: [Float] = []
        version.score(user: userHashed, candidates: candidateFeatures, scratch: &scratch, into: &scores)

        // Top k by score (ties: input order).
        let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }.prefix(k)
        var items: [ScoredItem] = []
        var remembered: [String: Impression.Item] = [:]
        for i in order {
            items.append(ScoredItem(id: candidates[i], score: Double(scores[i])))
            remembered[candidates[i]] = Impression.Item(features: userHashed + candidateFeatures[i], score: Double(scores[i]))
        }
        let requestID = Self.newRequestID()
        impressions.insert(requestID, Impression(
            experiment: request.experiment, armIndex: assignment.armIndex, arm: assignment.arm, stats: stats,
            slot: ref.slot, versionID: version.id, items: remembered))
        stats.served(arm: assignment.armIndex, counted: assignment.inExperiment && !assignment.forced)
        metrics.recommendation(experiment: request.experiment, arm: assignment.arm)
        let degraded = userRead.degraded || itemRead.degraded
        return RecommendResponse(
            requestID: requestID, experiment: request.experiment, arm: assignment.arm, inExperiment: assignment.inExperiment,
            model: ModelRef(slot: ref.slot, version: version.id), featureVersion: "\(configuration.userFeatureSet)@\(userRead.version),\(configuration.itemFeatureSet)@\(itemRead.version)",
            featuresDegraded: degraded, items: items)
    }

    static func newRequestID() -> String {
        let a = UInt64.random(in: 0...UInt64.max), b = UInt64.random(in: 0...UInt64.max)
        let hex = String(a, radix: 16), hex2 = String(b, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex + String(repeating: "0", count: 16 - hex2.count) + hex2
    }

    func feedback(_ request: FeedbackRequest, labels: inout RequestLabels) async throws -> FeedbackResponse {
        guard !request.requestID.isEmpty else { throw APIError.badField("request_id", "request_id must not be empty") }
        guard !request.item.isEmpty else { throw APIError.badField("item", "item must not be empty") }
        guard request.label.isFinite, (0...1).contains(request.label) else {
            throw APIError.badField("label", "label must be 0, 1 or a reward within [0, 1], got \(request.label)")
        }
        let impression: Impression
        switch impressions.lookup(request.requestID) {
        case .found(let i): impression = i
        case .expired:
            metrics.counter("duet_feedback_rejected_total", labels: [("reason", "expired")], help: "Feedback refused").increment()
            throw APIError(.gone, code: "impression_expired", message: "request \(request.requestID) is older than the impression TTL (or was evicted)", field: "request_id")
        case .unknown:
            metrics.counter("duet_feedback_rejected_total", labels: [("reason", "unknown_request")], help: "Feedback refused").increment()
            throw APIError(.notFound, code: "unknown_request", message: "no recommendation with request_id \(request.requestID)", field: "request_id")
        }
        labels.experiment = impression.experiment
        labels.arm = impression.arm
        guard let item = impression.items[request.item] else {
            metrics.counter("duet_feedback_rejected_total", labels: [("reason", "unknown_item")], help: "Feedback refused").increment()
            throw APIError(.notFound, code: "unknown_item", message: "item '\(request.item)' was not recommended in request \(request.requestID)", field: "item")
        }
        guard impression.consume(request.item) else {
            metrics.counter("duet_feedback_rejected_total", labels: [("reason", "duplicate")], help: "Feedback refused").increment()
            throw APIError(.conflict, code: "duplicate_feedback", message: "feedback for item '\(request.item)' of request \(request.requestID) was already recorded", field: "item")
        }
        guard let learner = models.learner else {
            impression.release(request.item)
            throw APIError(.serviceUnavailable, code: "model_not_ready", message: "the online learner has not started (no static model yet)")
        }
        await guardrail.observe(experiment: impression.experiment, features: item.features, label: request.label)
        guard learner.submit(OnlineLearner.Example(features: item.features, label: request.label)) else {
            impression.release(request.item)
            metrics.counter("duet_feedback_rejected_total", labels: [("reason", "queue_full")], help: "Feedback refused").increment()
            throw APIError(.serviceUnavailable, code: "learner_busy", message: "the online learner's queue is full; retry shortly")
        }
        impression.stats.feedback(arm: impression.armIndex, label: request.label, predicted: item.score)
        metrics.feedback(experiment: impression.experiment, arm: impression.arm, label: request.label)
        return FeedbackResponse(accepted: true, experiment: impression.experiment, arm: impression.arm)
    }

    func addServingRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/recommend") { [self] request, _ in
            try await metrics.timed("/v1/recommend") { labels in
                let r = try RequestDecoding.decode(RecommendRequest.self, from: try await body(request))
                return try JSONResponse.make(try await recommend(r, labels: &labels))
            }
        }
        router.post("/v1/feedback") { [self] request, _ in
            try await metrics.timed("/v1/feedback") { labels in
                let r = try RequestDecoding.decode(FeedbackRequest.self, from: try await body(request))
                return try JSONResponse.make(try await feedback(r, labels: &labels))
            }
        }
    }
}
