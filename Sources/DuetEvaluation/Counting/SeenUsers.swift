import Foundation

/// Which users an experiment has already counted, in fixed memory, so the sample-ratio test counts
/// users rather than requests without biasing the split: a Bloom filter (2^21 bits = 256 KiB,
/// 3 probes from `HyperLogLog.hash`) shared by all arms of one experiment revision.
///
/// A user counts in its arm the first time the filter has not seen it. A false positive (a new
/// user the filter wrongly believes seen) goes uncounted; whether that happens depends only on the
/// user's hash and on how full the filter is, not on the user's arm, so each arm's count is the
/// same random thinning of its users, and a χ² test of the counts against the configured weights
/// keeps its level. (An HyperLogLog per arm would not: its ~1.6% error per arm is itself a
/// "mismatch" the χ² test detects once an arm has a few thousand users.) What filling costs is
/// power, not validity: the share of new users left uncounted is about 0.0003% at 10,000 users,
/// 1.5% at 200,000, 13% at 500,000 and 44% at 1,000,000 (`dropRate`).
public struct SeenUsers: Sendable, Equatable {
    public static let bitCount = 1 << 21
    public static let probes = 3
    private(set) var words: [UInt64]
    /// Users inserted as new.
    public private(set) var count = 0

    public init() { words = Array(repeating: 0, count: Self.bitCount / 64) }

    /// A filter from `bytes` (as `bytes` wrote them) and its count; nil when the size is wrong.
    public init?(bytes: [UInt8], count: Int) {
        guard bytes.count == Self.bitCount / 8, count >= 0 else { return nil }
        words = bytes.withUnsafeBytes { raw in (0..<(Self.bitCount / 64)).map { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) } }
        self.count = count
    }

    /// The bits, little-endian, for saving.
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.bitCount / 8)
        out.withUnsafeMutableBytes { raw in
            for (i, w) in words.enumerated() { raw.storeBytes(of: w.littleEndian, toByteOffset: i * 8, as: UInt64.self) }
        }
        return out
    }

    /// The filter's bits for `user` (its 3 probes): the same in every process, so a filter kept
    /// elsewhere (a Redis bitmap shared by a cluster's replicas) counts users as this one does.
    public static func bits(_ user: String) -> [Int] {
        let h = HyperLogLog.hash(user)
        let h1 = h & 0xffff_ffff, h2 = (h >> 32) | 1
        return (0..<UInt64(probes)).map { i in Int((h1 &+ i &* h2) % UInt64(bitCount)) }
    }

    /// Marks `user` seen; true when it was not (as far as the filter can tell).
    public mutating func insert(_ user: String) -> Bool {
        var new = false
        for bit in Self.bits(user) {
            let mask = UInt64(1) << UInt64(bit & 63)
            if words[bit >> 6] & mask == 0 {
                new = true
                words[bit >> 6] |= mask
            }
        }
        if new { count += 1 }
        return new
    }

    /// The probability that a new user is taken for a seen one after `users` distinct users:
    /// (1 − e^(−k·n/m))^k.
    public static func dropRate(afterUsers users: Int) -> Double {
        pow(1 - exp(-Double(probes) * Double(users) / Double(bitCount)), Double(probes))
    }
}
