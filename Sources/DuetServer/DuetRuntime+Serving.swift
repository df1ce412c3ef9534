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
        let (userRead, prepared, itemVersion, itemsDegraded) = await candidateFeatures(
            user: request.user, candidates: candidates, config: version.config, hasher: hasher)
        metrics.featureFetch.record(ContinuousClock.now - fetchStart)

        let user = userRead.rows.first?.values ?? [:]
        var context: [String: FeatureValue] = [:]
        for (key, value) in request.context ?? [:] {
            switch value {
            case .string(let s): context[key] = .string(s)
            case .number(let d): context[key] = .number(d)
            }
        }
        let userNamed = FeatureNaming.userFeatures(fields: user.lazy.map { (key: $0.key, value: Self.featureValue($0.value)) }, context: context)
        let userHashed = hasher.hash(userNamed)
        // Each candidate: its prepared (user-independent) features, the user's affinity to it, and
        // the declared user × item interactions.
        var batch = CandidateFeatures()
        batch.reserveCapacity(candidates: candidates.count, features: (prepared.first?.hashed.count ?? 4) + 2)
        var crossed: [Feature] = []
        for item in prepared {
            batch.append(contentsOf: item.hashed)
            let affinity = FeatureNaming.affinity(user[item.affinityField].map(Self.featureValue))
            if let affinity { batch.append(hasher.hash(affinity)) }
            if !hasher.interactions.isEmpty {
                let named = affinity.map { item.named + [$0] } ?? item.named
                let hashed = affinity.map { item.hashed + [hasher.hash($0)] } ?? item.hashed
                crossed.removeAll(keepingCapacity: true)
                hasher.crossed(user: userNamed, userHashed: userHashed, item: named, itemHashed: hashed, into: &crossed)
                batch.append(contentsOf: crossed)
            }
            batch.close()
        }
        var scratch = ScoringScratch()
        var scores: [Float] = []
        scores.reserveCapacity(candidates.count)
        version.score(user: userHashed, candidates: batch, scratch: &scratch, into: &scores)

        var items: [ScoredItem] = []
        var remembered: [String: Impression.Item] = [:]
        remembered.reserveCapacity(k)
        for i in Self.topK(scores, k) {
            items.append(ScoredItem(id: candidates[i], score: Double(scores[i])))
            remembered[candidates[i]] = Impression.Item(features: userHashed + batch[i], score: Double(scores[i]))
        }
        let requestID = Self.newRequestID()
        impressions.insert(requestID, Impression(
            experiment: request.experiment, armIndex: assignment.armIndex, arm: assignment.arm, stats: stats,
            slot: ref.slot, versionID: version.id, items: remembered))
        stats.served(arm: assignment.armIndex, counted: assignment.inExperiment && !assignment.forced)
        metrics.recommendation(experiment: request.experiment, arm: assignment.arm)
        let degraded = userRead.degraded || itemsDegraded
        return RecommendResponse(
            requestID: requestID, experiment: request.experiment, arm: assignment.arm, inExperiment: assignment.inExperiment,
            model: ModelRef(slot: ref.slot, version: version.id), featureVersion: "\(configuration.userFeatureSet)@\(userRead.version),\(configuration.itemFeatureSet)@\(itemVersion)",
            featuresDegraded: degraded, items: items)
    }

    /// The user's row and the candidates' prepared features, all from one version of each set: the
    /// candidates already prepared at the item set's current version are not read again.
    func candidateFeatures(user: String, candidates: [String], config: ModelConfig, hasher: FeatureHasher) async
        -> (user: FeatureReadResult, items: [CandidateCache.Item], itemVersion: String, degraded: Bool)
    {
        let itemSet = configuration.itemFeatureSet
        let current = await features.currentVersion(set: itemSet)
        var known = current.map { candidateCache.cached(ids: candidates, set: itemSet, version: $0, config: config) }
            ?? Array(repeating: nil, count: candidates.count)
        var missing: [String] = []
        for (i, id) in candidates.enumerated() where known[i] == nil { missing.append(id) }
        var (userRead, itemRead) = await features.read(user: user, userSet: configuration.userFeatureSet, items: missing, itemSet: itemSet)
        if itemRead.version != current, missing.count < candidates.count {
            // The item set moved to another version between the two looks: read every candidate at the new one.
            known = Array(repeating: nil, count: candidates.count)
            missing = candidates
            itemRead = await features.read(set: itemSet, ids: candidates)
        }
        let fresh = candidateCache.prepare(ids: missing, read: itemRead, config: config, hasher: hasher)
        var next = fresh.makeIterator()
        let items = known.map { $0 ?? next.next()! }
        return (userRead, items, itemRead.version, itemRead.degraded)
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
