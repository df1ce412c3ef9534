import Foundation

/// The changes from one model version to the next of the same shape: what the trainer publishes to
/// every replica (the scale-out issue) instead of a whole model file. A replica that holds the parent
/// applies it and has the child, bitwise, sharing every page the delta does not touch.
///
/// ```swift
/// let bytes = try ModelDelta.encode(from: previous, to: version)    // on the trainer
/// if try ModelDelta.parentID(of: bytes) == current.id {              // on a replica
///     slot.publish(try ModelDelta.apply(bytes, to: current))
/// }
/// ```
///
/// Little-endian:
///
/// | bytes | content |
/// |---|---|
/// | 8 | magic `DUETDLTA` |
/// | 1 | format version (1) |
/// | 1 | parent id length B (1…255) |
/// | B | parent id (UTF-8): the version the delta applies to |
/// | 4 | header length H (u32) |
/// | H | the child's header: `ModelFile`'s JSON (id, parent_id, kind, created_at, examples, metrics, config, positives, seen, feedback_offset), never an optimizer state |
/// | | weights, then factors, each: |
/// | varint | entry count E (≤ the section's count: 2^bits, 2^bits·k) |
/// | E varints | indices, each as its gap to the last one minus 1 (the first: itself), so strictly increasing |
/// | 4·E | the child's values at those indices (f32), each finite and within ±`ModelFile.maxAbsWeight` |
/// | 32 | SHA-256 of every byte before it |
///
/// Varints are unsigned LEB128, shortest encoding only. A delta comes over the network, from anyone
/// who can write to Redis: `apply` checks the checksum, the header as `ModelFile` does, and every
/// count and index against the model's shape and the bytes there are before allocating from it, and
/// refuses with a `ModelFileError`, never a trap.
public enum ModelDelta {
    static let magic = Array("DUETDLTA".utf8)
    static let formatVersion: UInt8 = 1
    /// What error messages call a delta.
    static let name = "model delta"

    /// The changes from `parent` to `child` (which must have the same ModelConfig shape: bits, k, hashing/interactions…; throw
    /// otherwise): child's identity and metadata (id, parentID, kind, createdAt, examples, metrics, positives, seen, feedbackOffset)
    /// and every weight and factor value that differs (bitwise) from parent's, as (index, value) entries. Also records parent.id.
    ///
    /// Only pages the two versions do not share are compared. What `apply` would refuse is not
    /// encoded: a child weight beyond ±`ModelFile.maxAbsWeight`, a header field out of range.
    public static func encode(from parent: ModelVersion, to child: ModelVersion) throws -> [UInt8] {
        let name = "\(Self.name) \(parent.id) → \(child.id)"
        if let problem = shapeProblem(parent.config, child.config) {
            throw ModelFileError(.wrongBase, "\(name): parent and child differ in shape: \(problem)")
        }
        try ModelFile.Header.checkID("parent id", parent.id, name: name)
        let header = ModelFile.Header.of(child)
        try header.validate(name: name)
        let json = try header.json()
        let weights = child.weights.differences(from: parent.weights)
        let factors = child.factors.differences(from: parent.factors)
        for (what, changes) in [("weights", weights), ("factors", factors)] {
            if let j = changes.values.firstIndex(where: { !(abs($0) <= ModelFile.maxAbsWeight) }) {
                throw ModelFile.badWeight(changes.values[j], what, changes.indices[j], name: name)
            }
        }
        let parentID = Array(parent.id.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(8 + 2 + parentID.count + 4 + json.count + 20 + 9 * (weights.indices.count + factors.indices.count) + 32)
        out += magic
        out.append(formatVersion)
        out.append(UInt8(parentID.count))
        out += parentID
        ModelFile.append(&out, UInt32(json.count))
        out += json
        for changes in [weights, factors] {
            appendVarint(&out, UInt64(changes.indices.count))
            var next = 0
            for i in changes.indices {
                appendVarint(&out, UInt64(i - next))
                next = i + 1
            }
            for x in changes.values { ModelFile.append(&out, x.bitPattern) }
        }
        out += ModelFile.checksum(of: out)
        return out
    }

    /// The parent id a delta applies to (cheap: reads the header only).
    ///
    /// The checksum is not verified here (that reads every byte): `apply` verifies it.
    public static func parentID(of bytes: [UInt8]) throws(ModelFileError) -> String {
        var r = try reader(bytes)
        return try readParentID(&r)
    }

    /// Applies a delta to `base` (whose id must equal the delta's parent id, and whose config shape must match): a new ModelVersion
    /// with the child's identity and metadata, sharing with `base` every WeightPages page the delta does not touch (copy only
    /// touched pages).
    public static func apply(_ bytes: [UInt8], to base: ModelVersion) throws(ModelFileError) -> ModelVersion {
        var r = try reader(bytes)
        try ModelFile.verifyChecksum(bytes, name: name)
        let parentID = try readParentID(&r)
        guard parentID == base.id else {
            throw ModelFileError(.wrongBase, "\(name): made from version \(String(reflecting: parentID)), applied to \(String(reflecting: base.id))")
        }
        let headerLength: UInt32 = try r.int("header length")
        let header = try ModelFile.Header.decode(r.bytes(Int(headerLength), "header (\(headerLength) bytes)"), name: name)
        guard header.optimizer_state == nil, header.optimizer_state_bytes == nil else {
            throw ModelFileError(.layout, "\(name): declares an optimizer state (a delta carries none)")
        }
        if let problem = shapeProblem(base.config, header.config) {
            throw ModelFileError(.wrongBase, "\(name): the child's shape is not the base's (\(String(reflecting: base.id))): \(problem)")
        }
        // Bounded by the header's validation: 2^28·64 fits any Int.
        let size = header.config.size
        let weights = try readChanges(&r, count: size, "weights")
        let factors = try readChanges(&r, count: size * header.config.k, "factors")
        guard r.offset == r.end else {
            throw ModelFileError(.layout, "\(name): \(r.end - r.offset) unexpected bytes after the factors")
        }
        return header.version(
            weights: base.weights.replacing(weights.indices, with: weights.values),
            factors: base.factors.replacing(factors.indices, with: factors.values))
    }

    /// How two configurations differ in what the weights mean (bits, k, the crossed fields), or nil
    /// when they do not: hyper-parameters may differ, a delta carries the child's.
    static func shapeProblem(_ a: ModelConfig, _ b: ModelConfig) -> String? {
        if a.bits != b.bits { return "bits \(a.bits) vs \(b.bits)" }
        if a.k != b.k { return "k \(a.k) vs \(b.k)" }
        if a.interactions != b.interactions { return "interactions \(a.interactions) vs \(b.interactions)" }
        return nil
    }

    static func appendVarint(_ out: inout [UInt8], _ value: UInt64) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    /// A reader past the magic and the format version, ending before the checksum.
    static func reader(_ b: [UInt8]) throws(ModelFileError) -> ModelFile.Reader {
        guard b.count >= 8 + 1 + 32 else { throw ModelFileError(.truncated, "\(name): truncated (\(b.count) bytes)") }
        guard b[0..<8].elementsEqual(magic) else { throw ModelFileError(.magic, "\(name): not a Duet model delta (bad magic)") }
        guard b[8] == formatVersion else {
            throw ModelFileError(.version, "\(name): format version \(b[8]) is not supported (expected \(formatVersion))")
        }
        return ModelFile.Reader(bytes: b, offset: 9, end: b.count - 32, name: name)
    }

    static func readParentID(_ r: inout ModelFile.Reader) throws(ModelFileError) -> String {
        let length: UInt8 = try r.int("parent id length")
        let raw = try r.bytes(Int(length), "parent id (\(length) bytes)")
        guard let id = String(validating: raw, as: UTF8.self) else {
            throw ModelFileError(.header, "\(name): the parent id is not UTF-8")
        }
        try ModelFile.Header.checkID("parent id", id, name: name)
        return id
    }

    /// One section: its entries' indices (strictly increasing, each below `count`) and values (each
    /// finite and within ±`maxAbsWeight`).
    static func readChanges(
        _ r: inout ModelFile.Reader, count: Int, _ what: String
    ) throws(ModelFileError) -> (indices: [Int], values: [Float]) {
        let declared = try r.varint("\(what) entry count")
        guard declared <= UInt64(count) else {
            throw ModelFileError(.layout, "\(name): \(declared) changed \(what) of \(count)")
        }
        // Each entry takes at least 5 bytes (a one-byte gap, a float): a forged count asks for no more than is there.
        guard declared <= UInt64(r.remaining / 5) else {
            throw ModelFileError(.truncated, "\(name): truncated: \(declared) changed \(what) need at least \(5 * declared) bytes, \(r.remaining) are left")
        }
        let n = Int(declared)
        var indices: [Int] = []
        indices.reserveCapacity(n)
        var next: UInt64 = 0
        for j in 0..<n {
            let gap = try r.varint("\(what) index gap \(j)")
            let (index, overflow) = next.addingReportingOverflow(gap)
            guard !overflow, index < UInt64(count) else {
                throw ModelFileError(.layout, "\(name): \(what) entry \(j) is beyond the \(count) \(what)")
            }
            indices.append(Int(index))
            next = index + 1
        }
        let values = try r.floats(n, "changed \(what)")
        if let j = values.firstIndex(where: { !(abs($0) <= ModelFile.maxAbsWeight) }) {
            throw ModelFile.badWeight(values[j], what, indices[j], name: name)
        }
        return (indices, values)
    }
}
