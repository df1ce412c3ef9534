import Atomics
import Synchronization

/// What was served for one request, kept so that its feedback can be joined with the exact features
/// that were scored. Bounded (the oldest is overwritten first) and with a TTL; `sweep` frees what
/// expired (the server calls it every second), so a short TTL gives memory back; the bytes held are
/// tracked (`bytes`, from the `size` the store is given). Safe for concurrent use.
///
/// The store issues the request ids: a request's sequence number, sealed. A ring of `capacity`
/// slots holds sequence n in slot n mod capacity, so an insert is one slot write under one of many
/// small locks (no hashing, no eviction walk) and a lookup opens the id and reads one slot. An id
/// that opens but whose slot holds a newer request, or whose TTL is over, was served and is gone (a
/// 410); one that does not open was never issued here (a 404).
///
/// Ids are 32 hex digits: the sequence number through a keyed 64-bit permutation (four Feistel
/// rounds), then a keyed 64-bit tag of it. Keys come from the system's random source at start, so ids
/// do not reveal the request count and cannot be forged; a restart issues unrelated ids.
public final class ImpressionStore<Payload: Sendable>: Sendable {
    public enum Lookup {
        case found(Payload)
        /// The request was served but its impression is older than the TTL (or was overwritten).
        case expired
        case unknown
    }

    struct Slot {
        var sequence = UInt64.max
        var expires = ContinuousClock.Instant.now
        var payload: Payload?
        var bytes = 0
    }

    final class Stripe: Sendable {
        let slots: Mutex<[Slot]>
        init(count: Int) { slots = Mutex(Array(repeating: Slot(), count: count)) }
    }

    private let stripes: [Stripe]
    private let capacity: UInt64
    private let ttl: Duration
    private let next = ManagedAtomic<UInt64>(0)
    private let keys: [UInt64]
    private let size: @Sendable (Payload) -> Int
    private let heldBytes = ManagedAtomic<Int>(0)
    private let held = ManagedAtomic<Int>(0)

    /// - Parameter size: the bytes one payload holds (an estimate; for the `bytes` gauge).
    public init(capacity: Int, ttl: Duration, stripes: Int = 64, size: @escaping @Sendable (Payload) -> Int = { _ in 0 }) {
        self.size = size
        let capacity = max(1, capacity)
        let n = max(1, min(stripes, capacity))
        self.capacity = UInt64(capacity)
        self.stripes = (0..<n).map { s in Stripe(count: (capacity - s + n - 1) / n) }
        self.ttl = ttl
        var rng = SystemRandomNumberGenerator()
        keys = (0..<5).map { _ in rng.next() }
    }

    /// Remembers `payload` and returns the id it is found under.
    public func insert(_ payload: Payload, now: ContinuousClock.Instant = .now) -> String {
        let sequence = next.loadThenWrappingIncrement(ordering: .relaxed)
        let slot = Int(sequence % capacity)
        let expires = now + ttl
        let bytes = size(payload)
        var old = Slot(sequence: sequence, expires: expires, payload: payload, bytes: bytes)
        stripes[slot % stripes.count].slots.withLock { s in
            swap(&s[slot / stripes.count], &old)  // moved in and out: no copy to count references for
        }
        heldBytes.wrappingIncrement(by: bytes - old.bytes, ordering: .relaxed)
        if old.payload == nil { held.wrappingIncrement(ordering: .relaxed) }
        _ = old  // the overwritten impression is released here, outside the lock
        return Self.hex(permute(sequence), tag(sequence))
    }

    /// Looks `id` up without removing it (several items of one request may get feedback).
    public func lookup(_ id: String, now: ContinuousClock.Instant = .now) -> Lookup {
        guard let (a, b) = Self.unhex(id) else { return .unknown }
        let sequence = unpermute(a)
        guard tag(sequence) == b, sequence < next.load(ordering: .relaxed) else { return .unknown }
        let slot = Int(sequence % capacity)
        return stripes[slot % stripes.count].slots.withLock { s in
            let entry = s[slot / stripes.count]
            guard entry.sequence == sequence, entry.expires > now, let payload = entry.payload else { return .expired }
            return .found(payload)
        }
    }

    /// Frees every impression whose TTL is over; returns how many. One stripe lock at a time, and
    /// the payloads are released outside it.
    @discardableResult
    public func sweep(now: ContinuousClock.Instant = .now) -> Int {
        var freed = 0
        for stripe in stripes {
            var gone: [Payload] = []
            let bytes = stripe.slots.withLock { s -> Int in
                var b = 0
                // Through a pointer: `s[i].payload != nil` copied the whole slot (a reference count on
                // its impression) for each of the ring's slots, every second.
                s.withUnsafeMutableBufferPointer { slots in
                    for i in slots.indices where slots[i].expires <= now {
                        guard let payload = slots[i].payload.take() else { continue }
                        gone.append(payload)
                        b += slots[i].bytes
                        slots[i].bytes = 0
                    }
                }
                return b
            }
            freed += gone.count
            heldBytes.wrappingDecrement(by: bytes, ordering: .relaxed)
            held.wrappingDecrement(by: gone.count, ordering: .relaxed)
        }
        return freed
    }

    /// Impressions held (live, or expired and not swept yet).
    public var entries: Int { held.load(ordering: .relaxed) }

    /// Bytes the held impressions take (as `size` estimates them).
    public var bytes: Int { heldBytes.load(ordering: .relaxed) }

    /// Live entries (for metrics and tests).
    public func count(now: ContinuousClock.Instant = .now) -> Int {
        stripes.reduce(0) { n, stripe in n + stripe.slots.withLock { $0.count { $0.payload != nil && $0.expires > now } } }
    }

    // MARK: - Ids

    private func round(_ x: UInt32, _ r: Int) -> UInt32 {
        var h = Hasher()
        h.combine(keys[r])
        h.combine(x)
        return UInt32(truncatingIfNeeded: h.finalize())
    }

    func permute(_ n: UInt64) -> UInt64 {
        var l = UInt32(truncatingIfNeeded: n >> 32), r = UInt32(truncatingIfNeeded: n)
        for i in 0..<4 { (l, r) = (r, l ^ round(r, i)) }
        return UInt64(l) << 32 | UInt64(r)
    }

    func unpermute(_ n: UInt64) -> UInt64 {
        var l = UInt32(truncatingIfNeeded: n >> 32), r = UInt32(truncatingIfNeeded: n)
        for i in (0..<4).reversed() { (l, r) = (r ^ round(l, i), l) }
        return UInt64(l) << 32 | UInt64(r)
    }

    private func tag(_ n: UInt64) -> UInt64 {
        var h = Hasher()
        h.combine(keys[4])
        h.combine(n)
        return UInt64(UInt(bitPattern: h.finalize()))
    }

    static func hex(_ a: UInt64, _ b: UInt64) -> String {
        String(unsafeUninitializedCapacity: 32) { out in
            let digits: StaticString = "0123456789abcdef"
            for i in 0..<16 {
                out[i] = digits.utf8Start[Int((a >> (60 - 4 * UInt64(i))) & 15)]
                out[16 + i] = digits.utf8Start[Int((b >> (60 - 4 * UInt64(i))) & 15)]
            }
            return 32
        }
    }

    static func unhex(_ id: String) -> (UInt64, UInt64)? {
        var a: UInt64 = 0, b: UInt64 = 0, n = 0
        for c in id.utf8 {
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - 48
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - 87
            default: return nil
            }
            if n < 16 { a = a << 4 | UInt64(d) } else if n < 32 { b = b << 4 | UInt64(d) }
            n += 1
        }
        return n == 32 ? (a, b) : nil
    }
}
