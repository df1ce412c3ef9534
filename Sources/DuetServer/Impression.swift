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
    let slot: String
    let versionID: String
    let items: [String: Item]
    /// Items whose feedback was already taken (each counts once).
    private let consumed = Mutex<Set<String>>([])

    init(experiment: String, armIndex: Int, arm: String, stats: ExperimentStats, slot: String, versionID: String, items: [String: Item]) {
        self.experiment = experiment
        self.armIndex = armIndex
        self.arm = arm
        self.stats = stats
        self.slot = slot
        self.versionID = versionID
        self.items = items
    }

    /// Marks `item` as having its feedback; false when it already had.
    func consume(_ item: String) -> Bool { consumed.withLock { $0.insert(item).inserted } }

    /// Gives the item back (the learner refused it), so a retry can succeed.
    func release(_ item: String) { _ = consumed.withLock { $0.remove(item) } }
}
