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
    /// Items whose feedback was already taken (each counts once).
    private let consumed = Mutex<Set<String>>([])

    /// `features` holds, for each of `ids`, its features after the user's (`RequestFeatures.served`).
    init(
        experiment: String, armIndex: Int, arm: String, stats: ExperimentStats, slot: SlotName, versionID: String,
        user: [Feature], ids: [String], scores: [Float], features: CandidateFeatures
    ) {
        precondition(ids.count == scores.count && ids.count == features.count)
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
        return 160 + 4 * 32 + idBytes + 4 * scores.count + 12 * (user.count + features.features.count) + 8 * features.count
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
