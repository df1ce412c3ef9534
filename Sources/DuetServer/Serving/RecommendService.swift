import DuetAPI
import DuetEvaluation
import DuetFeatures
import DuetModels
import DuetRouting
import Foundation

/// `POST /v1/recommend`: route the user to an arm, prepare the features, score with the arm's
/// model version, take the top k, keep the impression for the feedback join.
final class RecommendService: Sendable {
    /// Request limits (`ServerConfiguration`): they bound what a request costs and what its impression keeps.
    struct Limits: Sendable {
        var maxCandidates: Int
        var maxContextKeys: Int
        /// In characters (Unicode code points), as JSON Schema's `maxLength` counts them.
        var maxStringLength: Int
    }

    let limits: Limits
    let experiments: ExperimentControl
    let models: ModelRegistry
    let preparer: FeaturePreparer
    let impressions: ImpressionStore<Impression>
    /// Cluster mode: each impression is also copied to Redis (off the request path), for a join on any replica.
    let cluster: ClusterService?
    let metrics: DuetMetrics

    init(limits: Limits, experiments: ExperimentControl, models: ModelRegistry, preparer: FeaturePreparer,
         impressions: ImpressionStore<Impression>, cluster: ClusterService? = nil, metrics: DuetMetrics) {
        self.cluster = cluster
        self.limits = limits
        self.experiments = experiments
        self.models = models
        self.preparer = preparer
        self.impressions = impressions
        self.metrics = metrics
    }

    /// The request's `k` once every field is within its limits (else a `RequestError` naming the field).
    func validate(_ r: RecommendRequest) throws -> Int {
        let maxCandidates = limits.maxCandidates, maxLength = limits.maxStringLength
        // At most `maxLength` characters; the byte count settles most strings without counting them.
        func fits(_ s: String) -> Bool { s.utf8.count <= maxLength || s.unicodeScalars.count <= maxLength }
        guard !r.experiment.isEmpty else { throw RequestError.invalidField("experiment", "experiment must not be empty") }
        guard fits(r.experiment) else { throw RequestError.invalidField("experiment", "experiment must be at most \(maxLength) characters") }
        guard !r.user.isEmpty, fits(r.user) else { throw RequestError.invalidField("user", "user must be 1 to \(maxLength) characters") }
        let k = r.k ?? 10
        guard k >= 1, k <= maxCandidates else {
            throw RequestError.invalidField("k", "k must be between 1 and \(maxCandidates), got \(k)")
        }
        if let c = r.candidates {
            guard !c.isEmpty else { throw RequestError.invalidField("candidates", "candidates must not be empty (omit it to rank the whole catalog)") }
            guard c.count <= maxCandidates else {
                throw RequestError.invalidField("candidates", "at most \(maxCandidates) candidates, got \(c.count)")
            }
            if let i = c.firstIndex(where: { $0.isEmpty || !fits($0) }) {
                throw RequestError.invalidField("candidates[\(i)]", "candidate ids must be 1 to \(maxLength) characters")
            }
        }
        if let context = r.context {
            guard context.count <= limits.maxContextKeys else {
                throw RequestError.invalidField("context", "at most \(limits.maxContextKeys) context keys, got \(context.count)")
            }
            for (key, value) in context {
                guard !key.isEmpty, fits(key) else {
                    throw RequestError.invalidField("context", "context keys must be 1 to \(maxLength) characters")
                }
                switch value {
                case .number(let d):
                    guard d.isFinite, abs(d) <= 1e6 else {
                        throw RequestError.invalidField("context.\(key)", "context.\(key) must be a finite number within ±1e6")
                    }
                case .string(let s):
                    guard fits(s) else {
                        throw RequestError.invalidField("context.\(key)", "context.\(key) must be at most \(maxLength) characters")
                    }
                }
            }
        }
        return k
    }

    /// The model version that serves `ref`: the pinned one, or the slot's current one.
    func version(for ref: ModelReference) throws -> ModelVersion {
        if let v = models.serving(ref) { return v }
        if let pinned = ref.version { throw ServingError.modelNotReady("version '\(pinned)' of slot '\(ref.slot)' is not loaded") }
        throw ServingError.modelNotReady("slot '\(ref.slot)' has no model yet")
    }

    func recommend(_ request: RecommendRequest, labels: inout RequestLabels) async throws -> RecommendResponse {
        let k = try validate(request)
        let snapshot = experiments.snapshot
        guard let assignment = snapshot.table.assign(experiment: request.experiment, user: request.user),
              let stats = snapshot.stats[request.experiment]
        else {
            throw ServingError.unknownExperiment(request.experiment)
        }
        labels.experiment = request.experiment
        labels.arm = assignment.arm
        let ref = assignment.model
        let version = try version(for: ref)

        // Features: the user's and the candidates', each set at one version.
        let fetchStart = ContinuousClock.now
        let candidates: [String]
        if let c = request.candidates {
            candidates = c
        } else {
            candidates = await preparer.features.entityIDs(set: preparer.itemSet).ids
        }
        let hasher = version.config.hasher
        let prepared = await preparer.prepare(user: request.user, candidates: candidates, version: version, hasher: hasher)
        metrics.featureFetch.record(ContinuousClock.now - fetchStart)

        let assembled = RequestFeatures(user: prepared.user, context: request.context, ids: candidates, batch: prepared.items, hasher: hasher)
        var scratch = ScoringScratch()
        var scores: [Float] = []
        scores.reserveCapacity(candidates.count)
        assembled.score(version, scratch: &scratch, into: &scores)

        let policy = ExplorationPolicy(assignment.armConfig.explore)
        let choice = ServedChoice.make(scores: scores, k: k, ids: candidates, policy: policy)
        let top = choice.indices
        let items = zip(top, choice.propensities).map { ScoredItem(id: candidates[$0], score: Double(scores[$0]), propensity: $1) }
        let counted = assignment.inExperiment && !assignment.forced
        // Off-policy estimates need a logging policy that gives other choices a chance.
        var targets: [PolicyTarget] = []
        if policy != .greedy, counted, let first = top.first {
            targets = policyTargets(
                assignment: assignment, version: version, scores: scores, ids: candidates, distinct: request.candidates == nil ? nil : ServedChoice.distinctIndices(candidates),
                shown: first, features: assembled, scratch: &scratch)
        }
        let impression = Impression(
            experiment: request.experiment, armIndex: assignment.armIndex, arm: assignment.arm, stats: stats,
            slot: ref.slot, versionID: version.id, user: assembled.user,
            ids: top.map { candidates[$0] }, scores: top.map { scores[$0] }, features: assembled.served(top),
            propensities: choice.propensities.map { Float($0) }, counted: counted, targets: targets,
            arms: assignment.arms, userID: request.user, choseAmong: ServedChoice.hadAChoice(ids: candidates, shown: top, distinct: request.candidates == nil))
        let requestID = impressions.insert(impression)
        cluster?.mirror(requestID: requestID, impression)
        let newHere = stats.served(arm: assignment.armIndex, user: request.user, inExperiment: assignment.inExperiment, forced: assignment.forced)
        // Cluster mode: a user this replica already counted is in the shared filter too (it was sent then).
        if counted, newHere { cluster?.served(experiment: request.experiment, revision: stats.revision, arm: assignment.armIndex, user: request.user) }
        metrics.recommendation(experiment: request.experiment, arm: assignment.arm)
        return RecommendResponse(
            requestID: requestID, experiment: request.experiment, arm: assignment.arm, inExperiment: assignment.inExperiment,
            model: ModelRef(slot: ref.slot.rawValue, version: version.id),
            featureVersion: "\(preparer.userSet)@\(prepared.userVersion),\(preparer.itemSet)@\(prepared.itemVersion)",
            featuresDegraded: prepared.degraded, items: items)
    }

    /// Every arm's policy on this request (`PolicyTarget`): each arm's model scores the same
    /// candidates with the same features (an arm whose model hashes features differently, or is not
    /// loaded, is left out), and its exploration policy turns the scores into probabilities over the
    /// distinct candidates (`distinct`: their indices; nil when all are distinct).
    func policyTargets(
        assignment: Assignment, version: ModelVersion, scores: [Float], ids: [String], distinct: [Int]?,
        shown: Int, features: RequestFeatures, scratch: inout ScoringScratch
    ) -> [PolicyTarget] {
        var targets: [PolicyTarget] = []
        targets.reserveCapacity(assignment.arms.count)
        let shownAt = distinct?.firstIndex(of: shown) ?? shown
        for (index, arm) in assignment.arms.enumerated() {
            var armScores = scores
            if index != assignment.armIndex {
                guard let other = models.serving(arm.model) else { continue }
                if other !== version {
                    guard other.hashesLike(version) else { continue }
                    armScores.removeAll(keepingCapacity: true)
                    features.score(other, scratch: &scratch, into: &armScores)
                }
            }
            let s = distinct.map { d in d.map { Double(armScores[$0]) } } ?? armScores.map(Double.init)
            guard s.allSatisfy(\.isFinite) else { continue }
            let p = ExplorationPolicy(arm.explore).probabilities(s)
            var expected = 0.0, best = 0
            for i in s.indices {
                expected += p[i] * s[i]
                if s[i] > s[best] { best = i }
            }
            targets.append(PolicyTarget(
                arm: index, probability: p[shownAt], predicted: s[shownAt], expected: expected,
                choice: ids[distinct?[best] ?? best]))
        }
        return targets
    }

    /// The k best candidates with distinct ids (a repeated candidate is shown once, at its first
    /// position). Only the top list is checked for repeats, so a request without them pays k
    /// comparisons at most; with them, the ranking is redone over the first occurrences.
    static func distinctTopK(_ scores: [Float], _ k: Int, ids: [String]) -> [Int] {
        let top = topK(scores, k)
        guard hasRepeats(top, ids) else { return top }
        let first = ServedChoice.distinctIndices(ids)
        return topK(first.map { scores[$0] }, min(k, first.count)).map { first[$0] }
    }

    /// Whether two of `top` (indices into `ids`) name the same id.
    static func hasRepeats(_ top: [Int], _ ids: [String]) -> Bool {
        if top.count > 16 { return Set(top.map { ids[$0] }).count != top.count }
        for i in top.indices { for j in top.indices where j > i && ids[top[i]] == ids[top[j]] { return true } }
        return false
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
}
