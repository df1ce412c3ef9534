import DuetModels
/// Builds one example's hashed features from bytes, giving exactly what
/// `FeatureHasher.hash(_:into:)` gives for the same named features in the same order: the same
/// index, value and fieldHash per feature, then the declared interactions.
///
/// Interactions match fields by name. The readers know each feature's field when they append it
/// and pass its `role`: the position of that field name in `roleNames` (-1 when no interaction
/// names it), so crossing needs no string comparison per row.
struct FeatureRowBuilder {
    /// The example's features: base features in append order, then interactions.
    private(set) var features: [Feature] = []
    private var roles: [Int32] = []
    let mask: UInt32
    /// The distinct field names that the hasher's interactions mention.
    let roleNames: [String]
    private let roleNamesASCII: [[UInt8]?]
    /// The interactions as pairs of roles, in the hasher's order.
    private let pairs: [(Int32, Int32)]

    init(hasher: FeatureHasher) {
        mask = hasher.mask
        var names: [String] = []
        for (a, b) in hasher.interactions {
            if !names.contains(a) { names.append(a) }
            if !names.contains(b) { names.append(b) }
        }
        roleNames = names
        roleNamesASCII = names.map { n in n.utf8.allSatisfy { $0 < 0x80 } ? Array(n.utf8) : nil }
        pairs = hasher.interactions.map { (Int32(names.firstIndex(of: $0.0)!), Int32(names.firstIndex(of: $0.1)!)) }
        features.reserveCapacity(64)
        roles.reserveCapacity(64)
    }

    var hasInteractions: Bool { !pairs.isEmpty }

    /// The role of a field name (String equality, as `FeatureHasher` matches fields).
    func role(of name: String) -> Int32 {
        guard let i = roleNames.firstIndex(of: name) else { return -1 }
        return Int32(i)
    }

    /// The role of a field name given as UTF-8 bytes.
    func role(ofUTF8 name: UnsafeRawBufferPointer) -> Int32 {
        guard !pairs.isEmpty else { return -1 }
        let ascii = !name.contains { $0 >= 0x80 }
        for (i, asciiName) in roleNamesASCII.enumerated() {
            if ascii, let asciiName {
                if asciiName.count == name.count && asciiName.withUnsafeBytes({ $0.elementsEqual(name) }) { return Int32(i) }
            } else if roleNames[i] == String(decoding: name, as: UTF8.self) {
                // Non-ASCII on either side: String equality (canonical equivalence), as FeatureHasher compares.
                return Int32(i)
            }
        }
        return -1
    }

    @inline(__always)
    mutating func removeAll() {
        features.removeAll(keepingCapacity: true)
        roles.removeAll(keepingCapacity: true)
    }

    /// Drops every feature after the first `count` (the interactions too): the row's shared part
    /// stays, for the next item.
    @inline(__always)
    mutating func truncate(to count: Int) {
        features.removeSubrange(count...)
        roles.removeSubrange(count...)
    }

    /// `field=value`, given the 32-bit hashes of `field` and of `field=value`.
    @inline(__always)
    mutating func appendCategorical(field: UInt32, hash h: UInt32, role: Int32) {
        features.append(Self.categorical(field: field, hash: h, mask: mask))
        roles.append(role)
    }

    /// A numeric feature of a field whose name hashes to `field`.
    @inline(__always)
    mutating func appendNumeric(field: UInt32, value: Double, role: Int32) {
        features.append(Self.numeric(field: field, value: value, mask: mask))
        roles.append(role)
    }

    /// A feature hashed earlier by `categorical` or `numeric` (with this builder's mask).
    @inline(__always)
    mutating func append(_ f: Feature, role: Int32) {
        features.append(f)
        roles.append(role)
    }

    /// What `FeatureHasher.hash(_:into:)` stores for a categorical feature.
    @inline(__always)
    static func categorical(field: UInt32, hash h: UInt32, mask: UInt32) -> Feature {
        Feature(index: h & mask, value: 1, fieldHash: FeatureHasher.featureHash(field: field, hash: h))
    }

    /// What `FeatureHasher.hash(_:into:)` stores for a numeric feature.
    @inline(__always)
    static func numeric(field: UInt32, value: Double, mask: UInt32) -> Feature {
        Feature(index: field & mask, value: Float(value), fieldHash: FeatureHasher.featureHash(field: field, hash: field))
    }

    /// Appends the interactions of the base features, as `FeatureHasher.hash(_:into:)` does.
    mutating func addInteractions() {
        guard !pairs.isEmpty else { return }
        let base = features.count
        for (a, b) in pairs {
            for i in 0..<base where roles[i] == a {
                for j in 0..<base where roles[j] == b {
                    let h = FeatureHasher.cross(features[i].fieldHash, features[j].fieldHash)
                    features.append(Feature(index: h & mask, value: features[i].value * features[j].value, fieldHash: h))
                }
            }
        }
    }
}
