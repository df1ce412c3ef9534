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
        let hasher = version.config.hasher
        let prepared = await preparedFeatures(user: request.user, candidates: candidates, version: version, hasher: hasher)
        metrics.featureFetch.record(ContinuousClock.now - fetchStart)

        let assembled = RequestFeatures(user: prepared.user, context: request.context, ids: candidates, batch: prepared.items, hasher: hasher)
        var scratch = ScoringScratch()
        var scores: [Float] = []
        scores.reserveCapacity(candidates.count)
        assembled.score(version, scratch: &scratch, into: &scores)

        let top = Self.topK(scores, k)
        let items = top.map { ScoredItem(id: candidates[$0], score: Double(scores[$0])) }
        let requestID = impressions.insert(Impression(
            experiment: request.experiment, armIndex: assignment.armIndex, arm: assignment.arm, stats: stats,
            slot: ref.slot, versionID: version.id, user: assembled.user,
            ids: top.map { candidates[$0] }, scores: top.map { scores[$0] }, features: assembled.served(top)))
        stats.served(arm: assignment.armIndex, counted: assignment.inExperiment && !assignment.forced)
        metrics.recommendation(experiment: request.experiment, arm: assignment.arm)
        return RecommendResponse(
            requestID: requestID, experiment: request.experiment, arm: assignment.arm, inExperiment: assignment.inExperiment,
            model: ModelRef(slot: ref.slot, version: version.id),
            featureVersion: "\(configuration.userFeatureSet)@\(prepared.userVersion),\(configuration.itemFeatureSet)@\(prepared.itemVersion)",
            featuresDegraded: prepared.degraded, items: items)
    }

    /// A request's prepared features (see `preparedFeatures`).
    struct PreparedRequest {
        var user: PreparedUser
        var userVersion: String
        var items: CandidateBatch
        var itemVersion: String
        var degraded: Bool
    }

    /// The user's and the candidates' prepared features, each set at one version, and the candidates'
    /// score parts under `version` (or, with interactions, their named features). What is already
    /// prepared at a set's current version is not read again; the rest is read in one round trip.
    func preparedFeatures(user: String, candidates: [String], version: ModelVersion, hasher: FeatureHasher) async -> PreparedRequest {
        let config = version.config
        let userSet = configuration.userFeatureSet, itemSet = configuration.itemFeatureSet
        let userVersion = await features.currentVersion(set: userSet)
        let itemVersion = await features.currentVersion(set: itemSet)
        let cachedUser = userVersion.flatMap { preparedUsers.cached(user, in: PreparedGeneration(set: userSet, version: $0, config: config)) }
        let interacting = !hasher.interactions.isEmpty, partsVersion = interacting ? nil : version
        var (store, slots, complete) = itemVersion.map {
            preparedCandidates.lookup(candidates, in: PreparedGeneration(set: itemSet, version: $0, config: config), version: partsVersion, named: interacting)
        } ?? (nil, Array(repeating: -1, count: candidates.count), nil)
        var missing: [String] = []
        for (c, id) in candidates.enumerated() where slots[c] < 0 { missing.append(id) }

        // What is not prepared: the user and the missing candidates, in one round trip.
        var userRead: FeatureReadResult?, itemRead: FeatureReadResult?
        if cachedUser == nil {
            (userRead, itemRead) = await features.read(user: user, userSet: userSet, items: missing, itemSet: itemSet)
        } else if !missing.isEmpty {
            itemRead = await features.read(set: itemSet, ids: missing)
        }
        if let read = itemRead, read.version != (itemVersion ?? ""), missing.count < candidates.count {
            // The item set moved to another version between the two looks: read every candidate at the new one.
            (store, slots, complete) = (nil, Array(repeating: -1, count: candidates.count), nil)
            missing = candidates
            itemRead = await features.read(set: itemSet, ids: candidates)
        }

        var result = PreparedRequest(user: cachedUser ?? PreparedUser(row: userRead?.rows.first, hasher: hasher),
                                     userVersion: userVersion ?? "", items: CandidateBatch(capacity: 0), itemVersion: itemVersion ?? "",
                                     degraded: false)
        if cachedUser == nil, let u = userRead {
            if !u.degraded, !u.version.isEmpty {
                preparedUsers.keep([(user, result.user)], in: PreparedGeneration(set: userSet, version: u.version, config: config))
            }
            result.userVersion = u.version
            result.degraded = u.degraded
        }
        var fresh: [PreparedCandidate] = []
        if let itemRead {
            fresh.reserveCapacity(missing.count)
            for (j, id) in missing.enumerated() {
                fresh.append(PreparedCandidate(id: id, row: j < itemRead.rows.count ? itemRead.rows[j] : nil, hasher: hasher))
            }
            // Defaults that stood in for rows Redis did not return are not kept; an item without a row
            // at a version is (it has none at that version, ever).
            if !itemRead.degraded, !itemRead.version.isEmpty {
                let kept = preparedCandidates.keep(fresh, in: PreparedGeneration(set: itemSet, version: itemRead.version, config: config))
                if store == nil || store === kept.store {
                    // Every candidate is in one store now: read them all from it.
                    var next = kept.slots.makeIterator()
                    for c in slots.indices where slots[c] < 0 { slots[c] = next.next()! }
                    store = kept.store
                    fresh = []
                }
            }
            result.itemVersion = itemRead.version
            result.degraded = result.degraded || itemRead.degraded
        }
        if let complete {
            result.items = complete
        } else {
            result.items = preparedCandidates.batch(store: store, slots: slots, fresh: fresh, version: partsVersion, named: interacting)
        }
        return result
    }

    /// The indices of the k highest scores, best first (ties: input order).
    static func topK(_ scores: [Float], _ k: Int) -> [Int] {
        func before(_ a: Int, _ b: Int) -> Bool { scores[a] > scores[b] || (scores[a] == scores[b] && a < b) }
        guard k < scores.count / 4 else { return Array(scores.indices.sorted(by: before).prefix(k)) }
        // A small sorted list of the best so far: one comparison for most candidates.
        var best: [Int] = []
        best.reserveCapacity(k + 1)
        for i in scores.indices {
            if best.count == k, !before(i, best[k - 1]) { continue }
            var j = best.count
            while j > 0, before(i, best[j - 1]) { j -= 1 }
            best.insert(i, at: j)
            if best.count > k { best.removeLast() }
        }
        return best
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
        guard let item = impression.item(request.item) else {
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
                let r = try RecommendRequest(json: try await bodyBuffer(request))
                let body = try await recommend(r, labels: &labels).json
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
            }
        }
        router.post("/v1/feedback") { [self] request, _ in
            try await metrics.timed("/v1/feedback") { labels in
                let r = try FeedbackRequest(json: try await bodyBuffer(request))
                return try JSONResponse.make(try await feedback(r, labels: &labels))
            }
        }
    }
}
