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
    /// Bytes written after the factors (before the trailer).
    public var trailing: [UInt8] = []

    /// Takes apart a valid model file.
    public init(_ bytes: [UInt8]) {
        func int<T: FixedWidthInteger>(_ at: Int) -> T {
            var v: T = 0
            for i in 0..<MemoryLayout<T>.size { v |= T(bytes[at + i]) << (8 * i) }
            return v
        }
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
