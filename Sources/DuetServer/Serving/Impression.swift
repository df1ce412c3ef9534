import DuetRouting
import DuetModels
import Synchronization

/// What one `/v1/recommend` served, remembered for the feedback join: the arm, the model version
/// and, per returned item, the exact features that were scored and the score.
final class Impression: Sendable {
    struct Item: Sendable {
        var features: [Feature]
        var score: Double
    }

    let experiment: String
    /// The experiment's arms (shared with the route table), for scoring feedback with every arm's model.
    let arms: [Arm]
    /// The user the request was for (the unit of the CTR comparison on users).
    let userID: String
    /// Whether the model chose: the request had more distinct candidates than it showed.
    let choseAmong: Bool
    let armIndex: Int
    let arm: String
    let stats: ExperimentStats
    let slot: SlotName
    let versionID: String
    /// The served items, in order, their scores, and their features (after the user's, shared by all).
    let ids: [String]
    let scores: [Float]
    let user: [Feature]
    let features: CandidateFeatures
    /// Each served item's propensity under the arm's policy (`ServedChoice`).
    let propensities: [Float]
    /// Whether the user counts in the experiment's statistics (hashed into it: not forced, not outside).
    let counted: Bool
    /// Every arm's policy on this request, for the off-policy estimates (empty when the arm does not
    /// explore, or no other arm's model could score the same features).
    let targets: [PolicyTarget]
    /// Items whose feedback was already taken (each counts once).
    private let consumed = Mutex<Set<String>>([])

    /// `features` holds, for each of `ids`, its features after the user's (`RequestFeatures.served`).
    init(
        experiment: String, armIndex: Int, arm: String, stats: ExperimentStats, slot: SlotName, versionID: String,
        user: [Feature], ids: [String], scores: [Float], features: CandidateFeatures,
        propensities: [Float]? = nil, counted: Bool = true, targets: [PolicyTarget] = [],
        arms: [Arm] = [], userID: String = "", choseAmong: Bool = false
    ) {
        self.arms = arms
        self.userID = userID
        self.choseAmong = choseAmong
        precondition(ids.count == scores.count && ids.count == features.count)
        self.propensities = propensities ?? Array(repeating: 1, count: ids.count)
        self.counted = counted
        self.targets = targets
        self.experiment = experiment
        self.armIndex = armIndex
        self.arm = arm
        self.stats = stats
        self.slot = slot
        self.versionID = versionID
        self.user = user
        self.ids = ids
        self.scores = scores
        self.features = features
    }

    /// About what this impression holds in memory: the object and its arrays (headers included),
    /// 12 bytes per feature, 4 per score, each id (inline up to 15 UTF-8 bytes). Experiment and arm
    /// names share the config's storage.
    var approximateBytes: Int {
        let idBytes = ids.reduce(0) { $0 + 16 + ($1.utf8.count > 15 ? 32 + $1.utf8.count : 0) }
        let targetBytes = targets.reduce(32) { $0 + 48 + ($1.choice.utf8.count > 15 ? 32 + $1.choice.utf8.count : 0) }
        return 160 + 8 * 32 + (userID.utf8.count > 15 ? 32 + userID.utf8.count : 0) + idBytes + 8 * scores.count + 12 * (user.count + features.features.count) + 8 * features.count + targetBytes
    }

    /// The served item `id`: every feature it was scored with, and its score.
    func item(_ id: String) -> Item? {
        guard let i = ids.firstIndex(of: id) else { return nil }
        return Item(features: user + features[i], score: Double(scores[i]))
    }

    /// Marks `item` as having its feedback; false when it already had.
    func consume(_ item: String) -> Bool { consumed.withLock { $0.insert(item).inserted } }

    /// Gives the item back (the learner refused it), so a retry can succeed.
    func release(_ item: String) { _ = consumed.withLock { $0.remove(item) } }
}
