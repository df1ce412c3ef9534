import Crypto
import Foundation

/// Model files as an attacker writes them: a valid `.duet` file taken apart, its header or counts
/// changed, and put back together with a recomputed SHA-256 trailer, so a reader gets past the
/// checksum and meets the hostile values.
///
///     let bytes = HostileModelFile.rewrite(valid) { $0.editHeader { $0["seen"] = 1e300 } }
public struct HostileModelFile: Sendable {
    public var formatVersion: UInt32 = 1
    /// The header's JSON text, as written between the header length and the weight count.
    public var header: [UInt8]
    /// The header length the file declares (by default the header's byte count).
    public var headerLength: UInt32
    public var weightCount: UInt64
    public var weights: [UInt8]
    public var factorCount: UInt64
    public var factors: [UInt8]
    /// Bytes written after the factors (before the trailer): the optimizer-state section, if any.
    public var trailing: [UInt8] = []

    /// Takes apart a valid model file.
    public init(_ bytes: [UInt8]) {
        func int<T: FixedWidthInteger>(_ at: Int) -> T {
            var v: T = 0
            for i in 0..<MemoryLayout<T>.size { v |= T(bytes[at + i]) << (8 * i) }
            return v
        }
        formatVersion = int(8)
        let h: UInt32 = int(12)
        var o = 16
        header = Array(bytes[o..<(o + Int(h))])
        headerLength = h
        o += Int(h)
        weightCount = int(o)
        weights = Array(bytes[(o + 8)..<(o + 8 + 4 * Int(weightCount))])
        o += 8 + 4 * Int(weightCount)
        factorCount = int(o)
        factors = Array(bytes[(o + 8)..<(o + 8 + 4 * Int(factorCount))])
        o += 8 + 4 * Int(factorCount)
        trailing = Array(bytes[o..<(bytes.count - 32)])
    }

    /// The optimizer-state section's floats as three arrays (linear accumulators, factor
    /// accumulators, z), read from `trailing`; setting them rewrites `trailing` with their counts.
    public var optimizerState: [[Float]] {
        get {
            var o = 0, arrays: [[Float]] = []
            func u64() -> Int {
                var v: UInt64 = 0
                for i in 0..<8 { v |= UInt64(trailing[o + i]) << (8 * i) }
                o += 8
                return Int(v)
            }
            while arrays.count < 3 && o + 8 <= trailing.count {
                let n = u64()
                arrays.append((0..<n).map { i in
                    var bits: UInt32 = 0
                    for b in 0..<4 { bits |= UInt32(trailing[o + 4 * i + b]) << (8 * b) }
                    return Float(bitPattern: bits)
                })
                o += 4 * n
            }
            return arrays
        }
        set {
            var out: [UInt8] = []
            for values in newValue {
                withUnsafeBytes(of: UInt64(values.count).littleEndian) { out.append(contentsOf: $0) }
                for x in values { withUnsafeBytes(of: x.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
            }
            trailing = out
        }
    }

    /// Changes the header as a JSON object (its length follows).
    public mutating func editHeader(_ edit: (inout [String: Any]) -> Void) {
        var object = (try? JSONSerialization.jsonObject(with: Data(header))) as? [String: Any] ?? [:]
        edit(&object)
        setHeader(Array(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])))
    }

    /// Changes the header's `config` object.
    public mutating func editConfig(_ edit: (inout [String: Any]) -> Void) {
        editHeader { h in
            var config = h["config"] as? [String: Any] ?? [:]
            edit(&config)
            h["config"] = config
        }
    }

    /// Replaces the header's text (`"seen":1e400`, say, which no JSON library writes); its length follows.
    public mutating func setHeader(_ text: [UInt8]) {
        header = text
        headerLength = UInt32(text.count)
    }

    /// The file: magic, format version, the parts, and the SHA-256 of all of it.
    public var bytes: [UInt8] {
        var out = Array("DUETMODL".utf8)
        func append<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        append(formatVersion)
        append(headerLength)
        out += header
        append(weightCount)
        out += weights
        append(factorCount)
        out += factors
        out += trailing
        return Self.sealed(out)
    }

    /// `body` followed by its SHA-256 (the trailer every model file ends with).
    public static func sealed(_ body: [UInt8]) -> [UInt8] { body + Array(SHA256.hash(data: body)) }

    /// `valid`, changed by `edit`, re-sealed.
    public static func rewrite(_ valid: [UInt8], _ edit: (inout HostileModelFile) -> Void) -> [UInt8] {
        var file = HostileModelFile(valid)
        edit(&file)
        return file.bytes
    }
}
