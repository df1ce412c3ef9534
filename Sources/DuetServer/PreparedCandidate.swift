import DuetFeatures
import DuetModels
import Synchronization

/// One candidate item, ready to score: the naming layer's user-independent features and their hashes,
/// and their share of the score under the model versions that scored it last.
final class PreparedCandidate: Sendable {
    let id: String
    /// The id as a number, if it is one (see `Affinities`).
    let number: Int?
    let named: [NamedFeature]
    let hashed: [Feature]
    /// `ItemParts` of `hashed` under the last few versions (static and online serve side by side; a
    /// new online version replaces the oldest). About 40 + 4k bytes each.
    private let parts = Mutex<[ItemParts]>([])
    static let partsKept = 3

    init(id: String, row: FeatureRow?, hasher: FeatureHasher) {
        self.id = id
        number = Affinities.number(id)
        named = FeatureNaming.candidateFeatures(itemID: id, item: row.map { DuetRuntime.featureValues($0.values) } ?? [:])
        hashed = named.map(hasher.hash)
    }

    /// Appends this candidate's parts under `version` to `rows` (computed on first use). Copied under
    /// the lock, not retained: both cores read the same candidates, and a shared reference count
    /// costs more than the copy.
    func appendParts(for version: ModelVersion, to rows: inout [Float]) {
        let serial = version.serial
        let kept = parts.withLock { kept in
            guard let i = kept.firstIndex(where: { $0.version == serial }) else { return false }
            kept[i].values.withUnsafeBufferPointer { rows.append(contentsOf: $0) }
            return true
        }
        if kept { return }
        let made = version.itemParts(hashed)
        rows.append(contentsOf: made.values)
        parts.withLock { kept in
            guard !kept.contains(where: { $0.version == serial }) else { return }
            if kept.count >= Self.partsKept { kept.removeFirst() }
            kept.append(made)
        }
    }
}
