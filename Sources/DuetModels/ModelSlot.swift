import Atomics
import Foundation
import Synchronization

/// A named slot (`static`, `online`) holding the current model version behind one atomic reference,
/// and the last N versions in memory, so a rollback or promote is a single reference swap. Readers
/// never lock; writers (publish, rollback, promote) serialize on a small lock among themselves.
///
/// Beyond the last N it keeps a thinned history (`historyTiers`): for each tier of width W (10 s,
/// 1 min, 10 min, 1 h), the newest version of each of the two most recent W-aligned intervals
/// before the current one, so a version at least W old, and under 2W + the publish gap old, is
/// kept. Versions share the weight pages they did not change, so a kept version costs the pages
/// learned since.
///
///     let slot = ModelSlot(name: "online")
///     slot.publish(version)
///     let v = slot.current          // one atomic load
///     try slot.rollback(to: nil)    // back to the previous version
public final class ModelSlot: Sendable {
    final class Box: AtomicReference, Sendable {
        let version: ModelVersion?
        init(_ version: ModelVersion?) { self.version = version }
    }

    public let name: String
    public let capacity: Int
    private let currentBox: ManagedAtomic<Box>
    struct History {
        /// Kept versions, oldest first.
        var versions: [ModelVersion] = []
        /// The ids current was before (for "previous").
        var trail: [String] = []
        /// Ids a running experiment pins (kept beyond capacity for as long as they are pinned).
        var pinned: Set<String> = []
        /// Ids the guardrail is evaluating (kept beyond capacity until it decides).
        var held: Set<String> = []
        /// The newest versions the guardrail marked healthy, oldest first (kept beyond capacity).
        var healthy: [String] = []
        /// The thinned history's versions (kept beyond capacity; see `historyTiers`).
        var thinned: Set<String> = []

        var kept: Set<String> { pinned.union(held).union(healthy).union(thinned) }

        /// Marks `id` healthy when kept, keeping the newest `healthyKept` marks.
        mutating func markHealthy(_ id: String) -> Bool {
            guard versions.contains(where: { $0.id == id }) else { return false }
            healthy.removeAll { $0 == id }
            healthy.append(id)
            if healthy.count > ModelSlot.healthyKept { healthy.removeFirst(healthy.count - ModelSlot.healthyKept) }
            return true
        }

        /// Recomputes the thinned history as of `now`, then drops the oldest versions kept for no
        /// reason beyond capacity.
        mutating func thin(now: Date, capacity: Int) {
            thinned = ModelSlot.history(versions.map { ($0.id, $0.createdAt) }, now: now)
            ModelSlot.thin(&versions, capacity: capacity, pinned: kept)
        }
    }

    /// Widths (seconds) of the thinned history's tiers.
    public static let historyTiers: [TimeInterval] = [10, 60, 600, 3600]
    /// Intervals kept per tier.
    static let historyPerTier = 2

    /// How many healthy versions are kept beyond capacity.
    public static let healthyKept = 4
    private let history = Mutex(History())

    public init(name: String, capacity: Int = 16) {
        self.name = name
        self.capacity = max(2, capacity)
        self.currentBox = ManagedAtomic(Box(nil))
    }

    /// The version requests are served from (one atomic load).
    public var current: ModelVersion? { currentBox.load(ordering: .acquiring).version }

    /// Kept versions, oldest first.
    public var versions: [ModelVersion] { history.withLock { $0.versions } }

    /// A kept version by id.
    public func version(_ id: String) -> ModelVersion? { history.withLock { h in h.versions.last { $0.id == id } } }

    /// Adds `version` and makes it current. The oldest kept version is dropped beyond capacity
    /// (never the one being replaced while it is current).
    public func publish(_ version: ModelVersion) {
        history.withLock { h in
            if let old = currentBox.load(ordering: .relaxed).version { h.trail.append(old.id) }
            h.versions.removeAll { $0.id == version.id }
            h.versions.append(version)
            h.thin(now: version.createdAt, capacity: capacity)
            if h.trail.count > capacity * 4 { h.trail.removeFirst(h.trail.count - capacity * 4) }
            currentBox.store(Box(version), ordering: .releasing)
        }
    }

    /// Adds `older` versions (read back at a restart) to what the slot keeps, without changing the
    /// current one: they go before the kept versions (ordered by the caller, oldest first). The ids
    /// in `healthy` (oldest first) are marked healthy where the slot has them, before the slot thins.
    public func restore(_ older: [ModelVersion], healthy: [String] = []) {
        history.withLock { h in
            let have = Set(h.versions.map(\.id))
            h.versions.insert(contentsOf: older.filter { !have.contains($0.id) }, at: 0)
            for id in healthy { _ = h.markHealthy(id) }
            let now = currentBox.load(ordering: .relaxed).version?.createdAt ?? h.versions.map(\.createdAt).max() ?? Date()
            h.thin(now: now, capacity: capacity)
        }
    }

    /// Keeps the versions `ids` (those the slot has) for as long as they are pinned, beyond
    /// capacity; a version no longer pinned leaves at the next publish if it is past capacity.
    public func pin(_ ids: Set<String>) {
        history.withLock { h in h.pinned = ids }
    }

    /// The ids pinned now.
    public var pinnedIDs: Set<String> { history.withLock { $0.pinned } }

    /// Every id kept beyond capacity: pinned, held, healthy and the thinned history.
    public var keptIDs: Set<String> { history.withLock { $0.kept } }

    /// The ids kept beyond capacity that must stay on disk too, so they survive a restart: pinned,
    /// held and healthy. (The thinned history on disk is made of checkpoint files, thinned by the
    /// same rule: `history`.)
    public var durableIDs: Set<String> { history.withLock { $0.pinned.union($0.held).union($0.healthy) } }

    /// Keeps the versions `ids` while the guardrail evaluates them (replaces the previous set).
    public func hold(_ ids: Set<String>) {
        history.withLock { h in h.held = ids }
    }

    /// Marks a kept version healthy: it stays among the newest `healthyKept` healthy versions.
    /// False when the slot no longer has it.
    @discardableResult
    public func markHealthy(_ id: String) -> Bool {
        history.withLock { $0.markHealthy(id) }
    }

    /// The healthy versions kept, oldest first.
    public var healthyIDs: [String] { history.withLock { $0.healthy } }

    /// The thinned history's versions kept now (see `historyTiers`).
    public var historyIDs: Set<String> { history.withLock { $0.thinned } }

    /// The thinned history as of `now` of the versions `stamps` (id, creation time): per tier of
    /// width W, the newest version of each of the `historyPerTier` most recent W-aligned intervals
    /// before the one `now` is in. The newest version of a coarse interval is the newest of its last
    /// fine interval, so each tier takes its versions over from the finer one before that one lets
    /// them go. (The learner thins its checkpoint files by the same rule.)
    public static func history(_ stamps: [(id: String, at: Date)], now: Date) -> Set<String> {
        var keep = Set<String>()
        for width in historyTiers {
            let current = (now.timeIntervalSince1970 / width).rounded(.down)
            var newest: [Double: (id: String, at: Date)] = [:]
            for v in stamps {
                let bucket = (v.at.timeIntervalSince1970 / width).rounded(.down)
                guard bucket < current else { continue }
                if let n = newest[bucket], n.at > v.at { continue }
                newest[bucket] = v
            }
            for bucket in newest.keys.sorted(by: >).prefix(historyPerTier) { keep.insert(newest[bucket]!.id) }
        }
        return keep
    }

    /// Drops the oldest unpinned versions until at most `capacity` unpinned are left.
    static func thin(_ versions: inout [ModelVersion], capacity: Int, pinned: Set<String>) {
        var unpinned = versions.count { !pinned.contains($0.id) }
        guard unpinned > capacity else { return }
        versions.removeAll { v in
            guard unpinned > capacity, !pinned.contains(v.id) else { return false }
            unpinned -= 1
            return true
        }
    }

    public struct Swap: Sendable {
        public var from: ModelVersion
        public var to: ModelVersion
        /// Time the reference swap itself took.
        public var duration: Duration

        public init(from: ModelVersion, to: ModelVersion, duration: Duration) {
            self.from = from
            self.to = to
            self.duration = duration
        }
    }

    /// Makes an earlier version current: `id`, or (nil) the one that was current before this one
    /// among those still kept.
    @discardableResult
    public func rollback(to id: String? = nil) throws -> Swap {
        try history.withLock { h in
            guard let now = currentBox.load(ordering: .relaxed).version else { throw SlotError.empty(name) }
            let target: ModelVersion
            if let id {
                guard let v = h.versions.last(where: { $0.id == id }) else { throw SlotError.unknownVersion(name, id, h.versions.map(\.id)) }
                target = v
            } else {
                // The previous version: the newest kept version older than the current one.
                guard let i = h.versions.lastIndex(where: { $0.id == now.id }), i > 0 else {
                    throw SlotError.noPrevious(name, now.id)
                }
                target = h.versions[i - 1]
            }
            let start = ContinuousClock.now
            currentBox.store(Box(target), ordering: .releasing)
            let took = ContinuousClock.now - start
            h.trail.append(now.id)
            return Swap(from: now, to: target, duration: took)
        }
    }

    /// Makes the kept version `id` current.
    @discardableResult
    public func promote(_ id: String) throws -> Swap {
        try history.withLock { h in
            guard let v = h.versions.last(where: { $0.id == id }) else { throw SlotError.unknownVersion(name, id, h.versions.map(\.id)) }
            let now = currentBox.load(ordering: .relaxed).version
            let start = ContinuousClock.now
            currentBox.store(Box(v), ordering: .releasing)
            let took = ContinuousClock.now - start
            if let now { h.trail.append(now.id) }
            return Swap(from: now ?? v, to: v, duration: took)
        }
    }
}

public enum SlotError: Error, CustomStringConvertible, Sendable {
    case empty(String)
    case unknownVersion(String, String, [String])
    case noPrevious(String, String)

    public var description: String {
        switch self {
        case .empty(let slot): "slot '\(slot)' has no model yet"
        case .unknownVersion(let slot, let id, let kept): "slot '\(slot)' keeps no version '\(id)' (kept: \(kept.joined(separator: ", ")))"
        case .noPrevious(let slot, let id): "slot '\(slot)' keeps no version older than the current '\(id)'"
        }
    }
}
