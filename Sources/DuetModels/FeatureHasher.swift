/// Hashes named features into `2^bits` slots with MurmurHash3 (x86, 32-bit) of the UTF-8 bytes of
/// `field=value` (categorical) or `field` (numeric), and adds declared interactions (like VW's `-q`):
/// for a pair of fields (a, b) every feature of a is crossed with every feature of b; the slot is a
/// mix of both features' hashes, the value their product.
///
///     let hasher = FeatureHasher(bits: 20, interactions: [("user_feature_0", "item_id")])
///     let features = hasher.hash([NamedFeature("item_id", .string("12")), NamedFeature("age", .number(0.3))])
public struct FeatureHasher: Sendable {
    public let bits: Int
    public let mask: UInt32
    /// Field-name pairs to cross.
    public let interactions: [(String, String)]
    let interactionHashes: [(UInt32, UInt32)]

    public init(bits: Int = 20, interactions: [(String, String)] = []) {
        precondition((1...28).contains(bits), "bits must be within 1...28")
        self.bits = bits
        self.mask = UInt32((1 << bits) - 1)
        self.interactions = interactions
        self.interactionHashes = interactions.map { (Self.murmur3(Array($0.0.utf8)), Self.murmur3(Array($0.1.utf8))) }
    }

    /// MurmurHash3_x86_32 of `bytes` (the one Murmur3 of Duet: `Murmur3Stream`, fed whole).
    @inlinable
    public static func murmur3<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var m = Murmur3Stream()
        for b in bytes { m.add(b) }
        return m.finish()
    }

    /// What `Feature.fieldHash` keeps of a base feature: its field's hash mixed with its own (so two
    /// values of one field cross differently).
    @inlinable
    public static func featureHash(field: UInt32, hash: UInt32) -> UInt32 {
        field ^ (hash &* 0x9E37_79B1)
    }

    /// The slot hash of an interaction of two features, from their field hashes (`Feature.fieldHash`).
    @inlinable
    public static func cross(_ a: UInt32, _ b: UInt32) -> UInt32 {
        finalMix((a &* 0x5bd1_e995) ^ b)
    }

    /// The full 32-bit hash of one named feature (before masking), its value, and its field's hash.
    public static func hash(_ f: NamedFeature) -> (hash: UInt32, value: Float) {
        let (h, v, _) = hashWithField(f)
        return (h, v)
    }

    static func hashWithField(_ f: NamedFeature) -> (hash: UInt32, value: Float, field: UInt32) {
        var m = Murmur3Stream()
        m.add(f.field)
        let field = m.finish()
        switch f.value {
        case .string(let s):
            m.add(UInt8(ascii: "="))
            m.add(s)
            return (m.finish(), 1, field)
        case .number(let x):
            return (field, Float(x), field)
        }
    }

    /// One feature, hashed as `hash(_:into:)` hashes it (without interactions).
    public func hash(_ f: NamedFeature) -> Feature {
        let (h, v, field) = Self.hashWithField(f)
        return Feature(index: h & mask, value: v, fieldHash: Self.featureHash(field: field, hash: h))
    }

    /// Hashes `features` (plus interactions) into `out`, which is cleared first.
    public func hash(_ features: [NamedFeature], into out: inout [Feature]) {
        out.removeAll(keepingCapacity: true)
        for f in features { out.append(hash(f)) }
        guard !interactionHashes.isEmpty else { return }
        let base = out.count
        for (fa, fb) in interactions {
            for i in 0..<base where features[i].field == fa {
                for j in 0..<base where features[j].field == fb {
                    let h = Self.cross(out[i].fieldHash, out[j].fieldHash)
                    out.append(Feature(index: h & mask, value: out[i].value * out[j].value, fieldHash: h))
                }
            }
        }
    }

    public func hash(_ features: [NamedFeature]) -> [Feature] {
        var out: [Feature] = []
        hash(features, into: &out)
        return out
    }

    /// Crosses already-hashed user features with candidate features for the declared pairs whose
    /// first field is in `user` and second in `item` (or the reverse). Fields are matched by name.
    public func crossed(user: [NamedFeature], userHashed: [Feature], item: [NamedFeature], itemHashed: [Feature], into out: inout [Feature]) {
        guard !interactions.isEmpty else { return }
        for (fa, fb) in interactions {
            for (i, u) in user.enumerated() where u.field == fa {
                for (j, c) in item.enumerated() where c.field == fb {
                    let h = Self.cross(userHashed[i].fieldHash, itemHashed[j].fieldHash)
                    out.append(Feature(index: h & mask, value: userHashed[i].value * itemHashed[j].value, fieldHash: h))
                }
            }
            for (i, c) in item.enumerated() where c.field == fa {
                for (j, u) in user.enumerated() where u.field == fb {
                    let h = Self.cross(itemHashed[i].fieldHash, userHashed[j].fieldHash)
                    out.append(Feature(index: h & mask, value: itemHashed[i].value * userHashed[j].value, fieldHash: h))
                }
            }
        }
    }

    @inlinable
    public static func finalMix(_ x: UInt32) -> UInt32 {
        var h = x
        h ^= h >> 16; h &*= 0x85eb_ca6b; h ^= h >> 13; h &*= 0xc2b2_ae35; h ^= h >> 16
        return h
    }
}
