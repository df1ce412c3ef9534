import Synchronization
import Atomics

/// The in-process cache in front of the store: rows keyed by (set, version, id), bounded, with a TTL.
///
/// Versions are immutable, so a cached row is never stale in content; the TTL bounds memory held
/// by versions no longer read. Sharded by key hash so concurrent readers rarely share a lock.
public final class FeatureCache: Sendable {
    struct Key: Hashable, Sendable {
        var set: String
        var version: String
        var id: String
    }

    struct Entry: Sendable {
        var row: FeatureRow
        var expires: UInt64
    }

    final class Shard: Sendable {
        let map = Mutex<[Key: Entry]>([:])
        func withLock<R>(_ body: (inout [Key: Entry]) -> R) -> R { map.withLock { body(&$0) } }
    }

    private let shards: [Shard]
    private let perShard: Int
    /// Rows found in the cache.
    public let hits = ManagedAtomic<Int>(0)
    /// Rows looked up and not found (or expired).
    public let misses = ManagedAtomic<Int>(0)

    /// A cache holding at most about `capacity` rows (0 disables it).
    public init(capacity: Int = 100_000, shards: Int = 16) {
        let n = max(1, shards)
        self.shards = (0..<n).map { _ in Shard() }
        self.perShard = capacity <= 0 ? 0 : max(1, capacity / n)
    }

    /// The number of rows held now.
    public var count: Int { shards.reduce(0) { $0 + $1.withLock { $0.count } } }

    private func shard(_ key: Key) -> Int {
        var h = Hasher()
        h.combine(key.id)
        return Int(UInt(bitPattern: h.finalize()) % UInt(shards.count))
    }


    /// The cached row, or nil.
    public func get(set: String, version: String, id: String, now: ContinuousClock.Instant = .now) -> FeatureRow? {
        guard perShard > 0 else { misses.wrappingIncrement(ordering: .relaxed); return nil }
        let key = Key(set: set, version: version, id: id)
        let t = Self.nanos(now)
        let row: FeatureRow? = shards[shard(key)].withLock { d in
            guard let e = d[key] else { return nil }
            if e.expires <= t { d[key] = nil; return nil }
            return e.row
        }
        if row != nil { hits.wrappingIncrement(ordering: .relaxed) } else { misses.wrappingIncrement(ordering: .relaxed) }
        return row
    }

    /// Stores a row for `ttl`.
    public func put(set: String, version: String, row: FeatureRow, ttl: Duration, now: ContinuousClock.Instant = .now) {
        guard perShard > 0, ttl > .zero else { return }
        let key = Key(set: set, version: version, id: row.id)
        let t = Self.nanos(now)
        let expires = t &+ Self.nanos(ttl)
        let limit = perShard
        shards[shard(key)].withLock { d in
            if d.count >= limit, d[key] == nil {
                // Drop expired rows first; if still full, drop an arbitrary one (cheap, bounded).
                d = d.filter { $0.value.expires > t }
                if d.count >= limit { d.remove(at: d.startIndex) }
            }
            d[key] = Entry(row: row, expires: expires)
        }
    }

    /// Removes everything.
    public func removeAll() {
        for s in shards { s.withLock { $0.removeAll() } }
    }

    static let origin = ContinuousClock.now
    static func nanos(_ d: Duration) -> UInt64 {
        let c = d.components
        return UInt64(max(0, c.seconds)) &* 1_000_000_000 &+ UInt64(max(0, c.attoseconds / 1_000_000_000))
    }
    static func nanos(_ i: ContinuousClock.Instant) -> UInt64 { nanos(origin.duration(to: i)) }
}
