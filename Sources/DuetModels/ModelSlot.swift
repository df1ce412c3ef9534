import Atomics
import Foundation
import Synchronization

/// A named slot (`static`, `online`) holding the current model version behind one atomic reference,
/// and the last N versions in memory, so a rollback or promote is a single reference swap. Readers
/// never lock; writers (publish, rollback, promote) serialize on a small lock among themselves.
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

        var kept: Set<String> { pinned.union(held).union(healthy) }
    }

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
            Self.thin(&h.versions, capacity: capacity, pinned: h.kept)
            if h.trail.count > capacity * 4 { h.trail.removeFirst(h.trail.count - capacity * 4) }
            currentBox.store(Box(version), ordering: .releasing)
        }
    }

    /// Adds `older` versions (read back at a restart) to what the slot keeps, without changing the
    /// current one: they go before the kept versions (ordered by the caller, oldest first).
    public func restore(_ older: [ModelVersion]) {
        history.withLock { h in
            let have = Set(h.versions.map(\.id))
            h.versions.insert(contentsOf: older.filter { !have.contains($0.id) }, at: 0)
            Self.thin(&h.versions, capacity: capacity, pinned: h.kept)
        }
    }

    /// Keeps the versions `ids` (those the slot has) for as long as they are pinned, beyond
    /// capacity; a version no longer pinned leaves at the next publish if it is past capacity.
    public func pin(_ ids: Set<String>) {
        history.withLock { h in h.pinned = ids }
    }

    /// The ids pinned now.
    public var pinnedIDs: Set<String> { history.withLock { $0.pinned } }

    /// Every id kept beyond capacity: pinned, held and healthy (their checkpoints stay on disk too).
    public var keptIDs: Set<String> { history.withLock { $0.kept } }

    /// Keeps the versions `ids` while the guardrail evaluates them (replaces the previous set).
    public func hold(_ ids: Set<String>) {
        history.withLock { h in h.held = ids }
    }

    /// Marks a kept version healthy: it stays among the newest `healthyKept` healthy versions.
    /// False when the slot no longer has it.
    @discardableResult
    public func markHealthy(_ id: String) -> Bool {
        history.withLock { h in
            guard h.versions.contains(where: { $0.id == id }) else { return false }
            h.healthy.removeAll { $0 == id }
            h.healthy.append(id)
            if h.healthy.count > Self.healthyKept { h.healthy.removeFirst(h.healthy.count - Self.healthyKept) }
            return true
        }
    }

    /// The healthy versions kept, oldest first.
    public var healthyIDs: [String] { history.withLock { $0.healthy } }

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
