/// Ids → dense slots (0, 1, 2, … in insertion order): an open-addressing table (linear probing,
/// at most half full) with a multiply–xorshift hash of the id's UTF-8 bytes. A request looks up every
/// candidate id here; `Dictionary`'s SipHash cost about 40 ns per id, this about a fifth of that.
/// The hash is seeded per process at random, so ids cannot be chosen offline to collide.
///
/// Ids that are small numbers (`Affinities.number`: a catalog's row ids, often) are also found by
/// their number in an array, without hashing or comparing strings; the array stays within a few
/// times the count of ids, so sparse numbers go through the hash only.
struct SlotIndex: Sendable {
    /// Slot → id.
    private(set) var ids: [String] = []
    /// Bucket → slot + 1 (0: empty), and the bucket's full hash (compared before the id).
    private var buckets: [Int32]
    private var hashes: [UInt32]
    private var mask: Int
    /// Number n → slot + 1 of the id that is n (0: none here; such an id may still be in the buckets).
    private var numbered: [Int32] = []

    static let seed = UInt64.random(in: .min ... .max)

    init(capacity: Int = 64) {
        var n = 16
        while n < capacity * 2 { n <<= 1 }
        buckets = Array(repeating: 0, count: n)
        hashes = Array(repeating: 0, count: n)
        mask = n - 1
    }

    var count: Int { ids.count }

    /// The slot of `id`, if it has one.
    func slot(_ id: String) -> Int? {
        let s = buckets.withUnsafeBufferPointer { buckets in
            hashes.withUnsafeBufferPointer { hashes in
                ids.withUnsafeBufferPointer { known in
                    numbered.withUnsafeBufferPointer { numbered in Self.find(id, buckets, hashes, known, numbered, mask) }
                }
            }
        }
        return s < 0 ? nil : s
    }

    /// Appends the slot of each of `ids` to `out` (-1 where it has none); true when all have one. The
    /// table's buffers are opened once for the whole batch: each opening is a reference count, and
    /// every request's task touches these same counts.
    func slots(of ids: [String], into out: inout [Int]) -> Bool {
        var all = true
        out.reserveCapacity(out.count + ids.count)
        buckets.withUnsafeBufferPointer { buckets in
            hashes.withUnsafeBufferPointer { hashes in
                self.ids.withUnsafeBufferPointer { known in
                    numbered.withUnsafeBufferPointer { numbered in
                        for id in ids {
                            let s = Self.find(id, buckets, hashes, known, numbered, mask)
                            if s < 0 { all = false }
                            out.append(s)
                        }
                    }
                }
            }
        }
        return all
    }

    /// The probe: `id`'s slot, or -1.
    @inline(__always)
    private static func find(
        _ id: String, _ buckets: UnsafeBufferPointer<Int32>, _ hashes: UnsafeBufferPointer<UInt32>,
        _ known: UnsafeBufferPointer<String>, _ numbered: UnsafeBufferPointer<Int32>, _ mask: Int
    ) -> Int {
        // The id's bytes, opened once for its number and its hash.
        var numberedSlot = -1
        let h = id.utf8.withContiguousStorageIfAvailable { bytes -> UInt64 in
            if !numbered.isEmpty, let n = Affinities.number(utf8: bytes), n < numbered.count, numbered[n] > 0 {
                numberedSlot = Int(numbered[n]) - 1
                return 0
            }
            return hash(UnsafeRawBufferPointer(bytes))
        } ?? hash(id)
        if numberedSlot >= 0 { return numberedSlot }
        let tag = UInt32(truncatingIfNeeded: h >> 32)
        var b = Int(truncatingIfNeeded: h) & mask
        while true {
            let s = Int(buckets[b])
            if s == 0 { return -1 }
            if hashes[b] == tag, known[s - 1] == id { return s - 1 }
            b = (b + 1) & mask
        }
    }

    /// The slot of `id`, given the next one if it has none yet.
    mutating func insert(_ id: String) -> Int {
        if let s = slot(id) { return s }
        if (ids.count + 1) * 2 > buckets.count { grow() }
        let s = ids.count
        ids.append(id)
        place(slot: s, hash: Self.hash(id))
        if let n = Affinities.number(id), n < 4 * ids.count + 1024 {
            if n >= numbered.count { numbered.append(contentsOf: repeatElement(0, count: max(n + 1, 2 * numbered.count) - numbered.count)) }
            numbered[n] = Int32(s + 1)
        }
        return s
    }

    private mutating func place(slot s: Int, hash h: UInt64) {
        var b = Int(truncatingIfNeeded: h) & mask
        while buckets[b] != 0 { b = (b + 1) & mask }
        buckets[b] = Int32(s + 1)
        hashes[b] = UInt32(truncatingIfNeeded: h >> 32)
    }

    private mutating func grow() {
        let n = buckets.count * 2
        buckets = Array(repeating: 0, count: n)
        hashes = Array(repeating: 0, count: n)
        mask = n - 1
        for (s, id) in ids.enumerated() { place(slot: s, hash: Self.hash(id)) }
    }

    /// A seeded 64-bit hash of `id`'s UTF-8 bytes, 8 at a time.
    @inline(__always)
    static func hash(_ id: String) -> UInt64 {
        if let h = id.utf8.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0)) }) { return h }
        return Array(id.utf8).withUnsafeBytes { hash($0) }
    }

    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let n = bytes.count
        var h = seed ^ (UInt64(n) &* 0x9E37_79B9_7F4A_7C15)
        var i = 0
        while i + 8 <= n {
            h = mix(h ^ bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i += 8
        }
        if i < n {
            var tail: UInt64 = 0
            for j in i..<n { tail |= UInt64(bytes[j]) << (8 * UInt64(j - i)) }
            h = mix(h ^ tail)
        }
        return mix(h)
    }

    @inline(__always)
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &* 0xBF58_476D_1CE4_E5B9
        z ^= z >> 31
        z = z &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 29)
    }
}
