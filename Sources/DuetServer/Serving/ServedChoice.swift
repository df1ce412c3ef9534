import DuetEvaluation
import DuetRouting

/// Which of the scored candidates a request shows, in order, and each one's propensity under the
/// arm's exploration policy.
///
/// - greedy (the default): the k best distinct candidates (`RecommendService.distinctTopK`), each
///   with propensity 1 (ties go to the earlier candidate, so the choice is deterministic);
/// - epsilon / softmax: a slate drawn by `ExplorationPolicy.drawSlate` over the distinct
///   candidates (a repeated id counts once, at its first position). Each item's propensity is the
///   probability its draw had given the items above it; for the first item that is its marginal
///   probability, which is what the live off-policy estimates use.
struct ServedChoice {
    /// Indices into the request's candidates, best (or first drawn) first.
    var indices: [Int]
    var propensities: [Double]

    static func make(scores: [Float], k: Int, ids: [String], policy: ExplorationPolicy) -> ServedChoice {
        if policy == .greedy {
            let top = RecommendService.distinctTopK(scores, k, ids: ids)
            return ServedChoice(indices: top, propensities: Array(repeating: 1, count: top.count))
        }
        let distinct = distinctIndices(ids)
        var rng = SystemRandomNumberGenerator()
        let slate = policy.drawSlate(distinct.map { Double(scores[$0]) }, k: min(k, distinct.count), using: &rng)
        return ServedChoice(indices: slate.map { distinct[$0.index] }, propensities: slate.map(\.conditionalProbability))
    }

    /// Whether showing the candidates at `shown` (indices into `ids`, distinct ids, as every policy
    /// here shows) was a choice: there were more distinct candidates, that is, some id is not among
    /// the shown ones (`distinct`: the ids are known to be distinct, as the whole catalog is). No set
    /// of ids is built: the first candidate that is not shown usually settles it.
    static func hadAChoice(ids: [String], shown: [Int], distinct: Bool) -> Bool {
        guard ids.count > shown.count else { return false }
        if distinct { return true }
        guard shown.count <= 16 else {
            let seen = Set(shown.map { ids[$0] })
            return ids.contains { !seen.contains($0) }
        }
        return ids.contains { id in !shown.contains { ids[$0] == id } }
    }

    /// The first occurrence of every id, in order (all indices when there is no repeat).
    static func distinctIndices(_ ids: [String]) -> [Int] {
        var seen = Set<String>()
        seen.reserveCapacity(ids.count)
        var out: [Int] = []
        out.reserveCapacity(ids.count)
        for (i, id) in ids.enumerated() where seen.insert(id).inserted { out.append(i) }
        return out
    }
}

extension ExplorationPolicy {
    /// The policy an arm's `explore:` names.
    init(_ exploration: Exploration) {
        switch exploration.policy {
        case .greedy: self = .greedy
        case .epsilon: self = exploration.epsilon == 0 ? .greedy : .epsilon(exploration.epsilon)
        case .softmax: self = .softmax(temperature: exploration.temperature)
        }
    }
}
