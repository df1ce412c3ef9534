/// MurmurHash3_x86_32 (seed 0) fed in pieces, bit-identical to `FeatureHasher.murmur3` of the
/// concatenated bytes. The log readers hash `field=value` straight from the line buffer: a copy of
/// the state after `field=` is kept per column, and each row only adds its value's bytes.
@frozen
public struct Murmur3Stream: Sendable {
    @usableFromInline var h: UInt32 = 0
    /// The bytes of the current, incomplete 4-byte block.
    @usableFromInline var k: UInt32 = 0
    /// Bytes added so far.
    @usableFromInline var n = 0

    @inlinable public init() {}

    @inlinable public init(_ s: String) {
        add(s)
    }

    @inlinable @inline(__always)
    static func mixBlock(_ h: UInt32, _ block: UInt32) -> UInt32 {
        var k = block &* 0xcc9e_2d51
        k = (k << 15) | (k >> 17)
        k &*= 0x1b87_3593
        var h = h ^ k
        h = (h << 13) | (h >> 19)
        return h &* 5 &+ 0xe654_6b64
    }

    @inlinable @inline(__always)
    public mutating func add(_ b: UInt8) {
        k |= UInt32(b) << (8 * UInt32(n & 3))
        n += 1
        if n & 3 == 0 {
            h = Self.mixBlock(h, k)
            k = 0
        }
    }

    /// Adds `count` bytes at `p`: whole 4-byte blocks are read as little-endian words.
    @inlinable @inline(__always)
    public mutating func add(_ p: UnsafeRawPointer, count: Int) {
        var i = 0
        while i < count && n & 3 != 0 {
            add(p.load(fromByteOffset: i, as: UInt8.self))
            i += 1
        }
        var h = self.h
        while i + 4 <= count {
            h = Self.mixBlock(h, UInt32(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt32.self)))
            i += 4
            n += 4
        }
        self.h = h
        while i < count {
            add(p.load(fromByteOffset: i, as: UInt8.self))
            i += 1
        }
    }

    @inlinable @inline(__always)
    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        if let base = bytes.baseAddress { add(base, count: bytes.count) }
    }

    @inlinable
    public mutating func add(_ s: String) {
        var s = s
        s.withUTF8 { add(UnsafeRawBufferPointer($0)) }
    }

    /// The hash of the bytes added so far (the stream can go on).
    @inlinable @inline(__always)
    public func finish() -> UInt32 {
        var h = self.h
        if n & 3 != 0 {
            var k = self.k &* 0xcc9e_2d51
            k = (k << 15) | (k >> 17)
            k &*= 0x1b87_3593
            h ^= k
        }
        h ^= UInt32(truncatingIfNeeded: n)
        return FeatureHasher.finalMix(h)
    }
}
