import Foundation
import DuetModels
import DuetRouting

/// An impression as bytes, so a request served by one replica can be joined on another (cluster
/// mode keeps a copy in Redis with the impression TTL). It holds what the join and the statistics
/// need: the experiment and its revision, the arm, the served model version, the user, each shown
/// item's id, score, propensity and features, and the off-policy targets. Decoding takes the
/// experiment's arms and counters from this replica's live state; an impression of another revision
/// is joined (the model learns the label) but not counted.
///
/// Layout (little-endian): format (u8, 1), then strings as u32 length + UTF-8, counts as u32.
enum ImpressionRecord {
    static let format: UInt8 = 1

    /// A record as Redis holds it: its bytes, or, as replicas before raw copies wrote it, their base64
    /// (a record starts with the format byte, 1, which no base64 text does), so a rolling upgrade
    /// still joins the older replicas' impressions. Bytes that are neither are returned as they are
    /// (`decode` refuses them).
    static func unwrap(_ stored: [UInt8]) -> [UInt8] {
        guard let first = stored.first, first != format,
              let decoded = Data(base64Encoded: Data(stored)) else { return stored }
        return [UInt8](decoded)
    }

    /// The record of `i`, sized first and written in one pass (the copy thread encodes every
    /// impression a replica serves: appending field by field cost about 3 µs each).
    static func encode(_ i: Impression) -> [UInt8] {
        func string(_ s: String) -> Int { 4 + s.utf8.count }
        func features(_ n: Int) -> Int { 4 + 12 * n }
        var size = 1 + string(i.experiment) + 4 + 4 + string(i.arm) + string(i.slot.rawValue) + string(i.versionID)
            + string(i.userID) + 1 + features(i.user.count) + 4 + 4
        for (n, id) in i.ids.enumerated() { size += string(id) + 8 + features(i.features.withFeatures(of: n) { $0.count }) }
        for t in i.targets { size += 4 + 24 + string(t.choice) }
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var w = Writer(out: UnsafeMutableRawBufferPointer(buffer))
            w.u8(format)
            w.string(i.experiment)
            w.u32(UInt32(i.stats.revision))
            w.u32(UInt32(i.armIndex))
            w.string(i.arm)
            w.string(i.slot.rawValue)
            w.string(i.versionID)
            w.string(i.userID)
            w.u8((i.choseAmong ? 1 : 0) | (i.counted ? 2 : 0))
            i.user.withUnsafeBufferPointer { w.features($0) }
            w.u32(UInt32(i.ids.count))
            i.features.withReader { features in
                for (n, id) in i.ids.enumerated() {
                    w.string(id)
                    w.u32(i.scores[n].bitPattern)
                    w.u32(i.propensities[n].bitPattern)
                    w.features(features[n])
                }
            }
            w.u32(UInt32(i.targets.count))
            for t in i.targets {
                w.u32(UInt32(t.arm))
                w.u64(t.probability.bitPattern)
                w.u64(t.predicted.bitPattern)
                w.u64(t.expected.bitPattern)
                w.string(t.choice)
            }
            precondition(w.at == size, "impression record: wrote \(w.at) of \(size) bytes")
            count = size
        }
    }

    /// The impression `bytes` hold, with `experiments`' live arms and counters; nil for bytes that
    /// are not a record of this format, or an experiment this replica does not run.
    static func decode(_ bytes: [UInt8], experiments: ExperimentControl.Snapshot) -> Impression? {
        var r = Reader(bytes: bytes)
        guard r.u8() == format, let experiment = r.string(), let revision = r.u32(), let armIndex = r.u32().map(Int.init),
              let arm = r.string(), let slot = r.string().flatMap(SlotName.init(rawValue:)), let versionID = r.string(),
              let userID = r.string(), let flags = r.u8(), let user = r.features(), let n = r.u32().map(Int.init), n <= bytes.count
        else { return nil }
        guard let config = experiments.table.experiment(experiment), let stats = experiments.stats[experiment], armIndex < config.arms.count
        else { return nil }
        var ids: [String] = [], scores: [Float] = [], propensities: [Float] = [], features = CandidateFeatures()
        for _ in 0..<n {
            guard let id = r.string(), let score = r.u32(), let p = r.u32(), let f = r.features() else { return nil }
            ids.append(id)
            scores.append(Float(bitPattern: score))
            propensities.append(Float(bitPattern: p))
            features.append(contentsOf: f)
            features.close()
        }
        guard let m = r.u32().map(Int.init), m <= config.arms.count else { return nil }
        var targets: [PolicyTarget] = []
        for _ in 0..<m {
            guard let a = r.u32().map(Int.init), a < config.arms.count, let p = r.u64(), let q = r.u64(), let e = r.u64(), let c = r.string()
            else { return nil }
            targets.append(PolicyTarget(arm: a, probability: Double(bitPattern: p), predicted: Double(bitPattern: q), expected: Double(bitPattern: e), choice: c))
        }
        guard r.atEnd else { return nil }
        let sameRevision = Int(revision) == stats.revision
        return Impression(
            experiment: experiment, armIndex: armIndex, arm: arm, stats: stats, slot: slot, versionID: versionID, user: user,
            ids: ids, scores: scores, features: features, propensities: propensities, counted: sameRevision && flags & 2 != 0,
            targets: sameRevision ? targets : [], arms: config.arms, userID: userID, choseAmong: flags & 1 != 0)
    }

    /// Writes little-endian fields into a buffer `encode` sized for them.
    struct Writer {
        let out: UnsafeMutableRawBufferPointer
        var at = 0
        mutating func u8(_ v: UInt8) {
            out[at] = v
            at += 1
        }
        mutating func u32(_ v: UInt32) {
            out.storeBytes(of: v.littleEndian, toByteOffset: at, as: UInt32.self)
            at += 4
        }
        mutating func u64(_ v: UInt64) {
            out.storeBytes(of: v.littleEndian, toByteOffset: at, as: UInt64.self)
            at += 8
        }
        mutating func string(_ s: String) {
            var s = s
            s.withUTF8 { utf8 in
                u32(UInt32(utf8.count))
                UnsafeMutableRawBufferPointer(rebasing: out[at..<(at + utf8.count)]).copyMemory(from: UnsafeRawBufferPointer(utf8))
                at += utf8.count
            }
        }
        mutating func features(_ f: UnsafeBufferPointer<Feature>) {
            u32(UInt32(f.count))
            for x in f {
                u32(x.index)
                u32(x.value.bitPattern)
                u32(x.fieldHash)
            }
        }
    }

    /// Reads with every length checked against what is left.
    struct Reader {
        let bytes: [UInt8]
        var at = 0
        var atEnd: Bool { at == bytes.count }
        mutating func u8() -> UInt8? {
            guard at < bytes.count else { return nil }
            defer { at += 1 }
            return bytes[at]
        }
        mutating func fixed<T: FixedWidthInteger>(_: T.Type) -> T? {
            let n = MemoryLayout<T>.size
            guard bytes.count - at >= n else { return nil }
            defer { at += n }
            return bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: T.self)) }
        }
        mutating func u32() -> UInt32? { fixed(UInt32.self) }
        mutating func u64() -> UInt64? { fixed(UInt64.self) }
        mutating func string() -> String? {
            guard let n = u32().map(Int.init), bytes.count - at >= n else { return nil }
            defer { at += n }
            return String(decoding: bytes[at..<at + n], as: UTF8.self)
        }
        mutating func features() -> [Feature]? {
            guard let n = u32().map(Int.init), (bytes.count - at) / 12 >= n else { return nil }
            var out: [Feature] = []
            out.reserveCapacity(n)
            for _ in 0..<n {
                guard let i = u32(), let v = u32(), let h = u32() else { return nil }
                out.append(Feature(index: i, value: Float(bitPattern: v), fieldHash: h))
            }
            return out
        }
    }
}
