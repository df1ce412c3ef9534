import Foundation
import Synchronization

/// What was served for one request, kept so that its feedback can be joined with the exact features
/// that were scored. Bounded (oldest dropped first) and with a TTL; safe for concurrent use.
///
/// Entries are spread over shards, each with its own small lock, so concurrent requests rarely meet.
public final class ImpressionStore<Payload: Sendable>: Sendable {
    public enum Lookup {
        case found(Payload)
        /// The request was served but its impression is older than the TTL (or was evicted).
        case expired
        case unknown
    }

    struct Entry {
        var payload: Payload
        var expires: ContinuousClock.Instant
    }

    struct Shard {
        var entries: [String: Entry] = [:]
        /// Insertion order, for eviction; `head` indexes the oldest live slot.
        var order: [String] = []
        var head = 0
        /// Ids that expired or were evicted recently, so feedback for them is a 410, not a 404.
        var gone: Set<String> = []
        var goneOrder: [String] = []
    }

    final class Locked: Sendable {
        let state = Mutex(Shard())
    }

    private let shards: [Locked]
    private let capacityPerShard: Int
    private let ttl: Duration

    public init(capacity: Int, ttl: Duration, shards: Int = 16) {
        self.shards = (0..<shards).map { _ in Locked() }
        self.capacityPerShard = max(1, capacity / shards)
        self.ttl = ttl
    }

    private func shard(_ id: String) -> Locked {
        var h = Hasher()
        h.combine(id)
        return shards[Int(UInt(bitPattern: h.finalize()) % UInt(shards.count))]
    }

    /// Remembers `payload` under `id`.
    public func insert(_ id: String, _ payload: Payload, now: ContinuousClock.Instant = .now) {
        let capacity = capacityPerShard
        let expires = now + ttl
        shard(id).state.withLock { s in
            Self.evict(&s, now: now, capacity: capacity - 1)
            s.entries[id] = Entry(payload: payload, expires: expires)
            s.order.append(id)
        }
    }

    /// Looks `id` up without removing it (several items of one request may get feedback).
    public func lookup(_ id: String, now: ContinuousClock.Instant = .now) -> Lookup {
        let capacity = capacityPerShard
        return shard(id).state.withLock { s in
            Self.evict(&s, now: now, capacity: capacity)
            if let e = s.entries[id] { return .found(e.payload) }
            return s.gone.contains(id) ? .expired : .unknown
        }
    }

    /// Live entries (for metrics and tests).
    public var count: Int { shards.reduce(0) { $0 + $1.state.withLock { $0.entries.count } } }

    private static func evict(_ s: inout Shard, now: ContinuousClock.Instant, capacity: Int) {
        while s.head < s.order.count {
            let id = s.order[s.head]
            guard let e = s.entries[id] else { s.head += 1; continue }
            guard s.entries.count > capacity || e.expires <= now else { break }
            s.entries[id] = nil
            s.head += 1
            s.gone.insert(id)
            s.goneOrder.append(id)
        }
        if s.head > 1024 && s.head * 2 > s.order.count {
            s.order.removeFirst(s.head)
            s.head = 0
        }
        let goneLimit = max(capacity, 1024)
        if s.goneOrder.count > goneLimit * 2 {
            for id in s.goneOrder.prefix(s.goneOrder.count - goneLimit) { s.gone.remove(id) }
            s.goneOrder.removeFirst(s.goneOrder.count - goneLimit)
        }
    }
}
