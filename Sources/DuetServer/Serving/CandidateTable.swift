import Atomics
import DuetModels
import Synchronization

/// Candidates prepared once per item-feature generation (naming and hashing 100 candidates was the
/// largest cost of `/v1/recommend`), with their score parts per model version (re-adding each item's
/// features for every user was the next). Stored flat: a request copies what it needs under one
/// lock rather than retaining an object per candidate, because both cores read the same candidates
/// and a shared reference count is a cache line the cores fight over.
///
/// Bounded like `PreparedCache`: `capacity` candidates per generation and `maxGenerations`; a full
/// generation starts over in a new store (a request still reading the old one keeps it alive).
final class CandidateTable: Sendable {
    typealias Generation = PreparedGeneration

    /// One generation's candidates. Mutated only under the table's lock; never shrinks.
    final class Store: @unchecked Sendable {
        var slots = SlotIndex()
        var numbers: [Int] = []
        var hashed = CandidateFeatures()
        var named: [[NamedFeature]] = []
        /// Per model version (oldest first, at most `partsKept`): every slot's parts, NaN where not
        /// computed yet (a model's parts are finite: versions with non-finite weights are refused).
        var parts: [(serial: UInt64, width: Int, rows: [Float])] = []
        /// The last whole batches made here (at most `recentKept`, newest last), by their candidate
        /// ids, model version (nil: no parts) and whether named: a request with the same candidates as
        /// one of them (a catalog ranked whole, a page's fixed list) shares its batch instead of
        /// copying every candidate again. Shared storage is read-only (a batch is a value).
        var recent: [(ids: [String], serial: UInt64?, named: Bool, slots: [Int], batch: CandidateBatch)] = []

        var count: Int { numbers.count }

        /// The kept batch of exactly `ids` under `serial` and `named`.
        func recent(_ ids: [String], serial: UInt64?, named: Bool) -> (slots: [Int], batch: CandidateBatch)? {
            for r in recent.reversed() where r.serial == serial && r.named == named && r.ids == ids { return (r.slots, r.batch) }
            return nil
        }

        func remember(_ ids: [String], serial: UInt64?, named: Bool, slots: [Int], batch: CandidateBatch) {
            if recent.count >= CandidateTable.recentKept { recent.removeFirst() }
            recent.append((ids, serial, named, slots, batch))
        }

        /// The index in `parts` of `version`'s rows, made (all NaN) on first use.
        func partsIndex(_ version: ModelVersion) -> Int {
            if let i = parts.firstIndex(where: { $0.serial == version.serial }) { return i }
            if parts.count >= CandidateTable.partsKept { parts.removeFirst() }
            parts.append((version.serial, version.itemPartsWidth, [Float](repeating: .nan, count: count * version.itemPartsWidth)))
            return parts.count - 1
        }
    }

    private let stores = Mutex<[Generation: Store]>([:])
    /// Candidates kept per generation, and generations kept.
    let capacity: Int
    let maxGenerations = 4
    /// Model versions whose parts are kept per generation: static and online serve side by side, and
    /// a new online version replaces the oldest. 4 + 4k bytes per candidate each.
    static let partsKept = 3
    /// Whole batches kept per generation for requests with the same candidates (`Store.recent`):
    /// two arms' versions, and a few candidate lists each.
    static let recentKept = 4
    /// Lookups answered, and not.
    let hits = ManagedAtomic<Int>(0)
    let misses = ManagedAtomic<Int>(0)

    init(capacity: Int = 200_000) {
        self.capacity = capacity
    }

    /// Each id's slot in `generation`'s store (-1 where it is not prepared yet), and the store; when
    /// every id is prepared, also their batch (as `batch`, in the same hold of the lock; shared with
    /// the last requests for the same ids, if any).
    func lookup(
        _ ids: [String], in generation: Generation, version: ModelVersion?, named: Bool
    ) -> (store: Store?, slots: [Int], batch: CandidateBatch?) {
        let found: (Store?, [Int], CandidateBatch?) = stores.withLock { s in
            guard let store = s[generation] else { return (nil, Array(repeating: -1, count: ids.count), nil) }
            if let (slots, batch) = store.recent(ids, serial: version?.serial, named: named) { return (store, slots, batch) }
            var slots: [Int] = []
            guard store.slots.slots(of: ids, into: &slots) else { return (store, slots, nil) }
            let batch = fill(store: store, slots: slots, fresh: [], version: version, named: named)
            store.remember(ids, serial: version?.serial, named: named, slots: slots, batch: batch)
            return (store, slots, batch)
        }
        let h = found.2 != nil ? ids.count : found.1.reduce(0) { $0 + ($1 < 0 ? 0 : 1) }
        hits.wrappingIncrement(by: h, ordering: .relaxed)
        misses.wrappingIncrement(by: ids.count - h, ordering: .relaxed)
        return found
    }

    /// Keeps `items` in `generation`; returns the store and their slots in it.
    @discardableResult
    func keep(_ items: [PreparedCandidate], in generation: Generation) -> (store: Store, slots: [Int]) {
        stores.withLock { s in
            var store = s[generation] ?? {
                if s.count >= maxGenerations { s.removeAll() }
                return Store()
            }()
            if store.count + items.count > capacity {
                store = Store()
            }
            s[generation] = store
            var slots: [Int] = []
            slots.reserveCapacity(items.count)
            for item in items {
                let slot = store.slots.insert(item.id)
                guard slot == store.count else {
                    slots.append(slot)
                    continue
                }
                store.numbers.append(item.number ?? -1)
                store.hashed.append(contentsOf: item.hashed)
                store.hashed.close()
                store.named.append(item.named)
                for i in store.parts.indices {
                    store.parts[i].rows.append(contentsOf: repeatElement(.nan, count: store.parts[i].width))
                }
                slots.append(slot)
            }
            return (store, slots)
        }
    }

    /// The batch of `slots` in `store`, with, where a slot is -1, the next of `fresh` (prepared
    /// candidates not kept). With a `version`, each candidate's parts under it (computed here once per
    /// slot and version); with `named`, its named features.
    func batch(store: Store?, slots: [Int], fresh: [PreparedCandidate], version: ModelVersion?, named: Bool) -> CandidateBatch {
        stores.withLock { _ in fill(store: store, slots: slots, fresh: fresh, version: version, named: named) }
    }

    /// `batch`, with the lock held.
    private func fill(store: Store?, slots: [Int], fresh: [PreparedCandidate], version: ModelVersion?, named: Bool) -> CandidateBatch {
        var batch = CandidateBatch(capacity: slots.count)
        let width = version?.itemPartsWidth ?? 0
        if version != nil { batch.parts.reserveCapacity(slots.count * width) }
        var next = fresh.makeIterator()
        guard let store else {
            for _ in slots { batch.append(next.next()!, version: version, named: named) }
            return batch
        }
        // One exclusive access to the version's rows for the whole batch (not one per candidate).
        let r = version.map { store.partsIndex($0) }
        var rows = r.map { store.parts[$0].rows } ?? []
        if let r { store.parts[r].rows = [] }
        defer { if let r { store.parts[r].rows = rows } }
        // Every buffer is opened once for the batch: opening one per candidate was a reference count
        // per candidate on storage both cores read.
        store.numbers.withUnsafeBufferPointer { numbers in
            store.hashed.withReader { hashed in
                rows.withUnsafeMutableBufferPointer { rows in
                    for slot in slots {
                        guard slot >= 0 else {
                            batch.append(next.next()!, version: version, named: named)
                            continue
                        }
                        batch.numbers.append(numbers[slot])
                        let own = hashed[slot]
                        batch.own.append(contentsOf: own)
                        batch.own.close()
                        if width > 0 {  // with a version (not bound per candidate: binding it was a reference count each)
                            let offset = slot * width
                            if rows[offset].isNaN { version!.itemParts(own, into: &rows, at: offset) }
                            batch.parts.append(contentsOf: UnsafeBufferPointer(rebasing: rows[offset..<(offset + width)]))
                        }
                        if named { batch.named.append(store.named[slot]) }
                    }
                }
            }
        }
        return batch
    }
}
