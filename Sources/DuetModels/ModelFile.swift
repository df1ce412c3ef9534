import Crypto
import Foundation

/// The model file (`*.duet`), little-endian:
///
/// | bytes | content |
/// |---|---|
/// | 8 | magic `DUETMODL` |
/// | 4 | format version (u32, = 1) |
/// | 4 | header length H (u32) |
/// | H | header: UTF-8 JSON — id, parent_id, kind, created_at, examples, metrics, config (bits, k, interactions, optimizer and its hyper-parameters), positives, seen |
/// | 8 | weight count N (u64, = 2^bits) |
/// | 4·N | linear weights (f32) |
/// | 8 | factor count M (u64, = 2^bits·k) |
/// | 4·M | factor weights (f32), slot i's factor f at i·k + f |
/// | 32 | SHA-256 of every byte before it |
///
/// Written atomically (temporary file in the same directory, fsync, rename); read in one go and
/// refused whole when truncated, tampered with or inconsistent.
public enum ModelFile {
    static let magic = Array("DUETMODL".utf8)
    static let formatVersion: UInt32 = 1

    struct Header: Codable {
        var id: String
        var parent_id: String?
        var kind: ModelVersion.Kind
        var created_at: Double
        var examples: Int
        var metrics: ModelVersion.Metrics
        var config: ModelConfig
        var positives: Double
        var seen: Double
    }

    public static func encode(_ v: ModelVersion) throws -> [UInt8] {
        let header = Header(
            id: v.id, parent_id: v.parentID, kind: v.kind, created_at: v.createdAt.timeIntervalSince1970, examples: v.examples,
            metrics: v.metrics, config: v.config, positives: v.positives, seen: v.seen)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .throw
        let json = Array(try encoder.encode(header))
        let w = v.weights.flattened(), f = v.factors.flattened()
        var out: [UInt8] = []
        out.reserveCapacity(8 + 8 + json.count + 16 + 4 * (w.count + f.count) + 32)
        out += magic
        append(&out, formatVersion)
        append(&out, UInt32(json.count))
        out += json
        append(&out, UInt64(w.count))
        for x in w { append(&out, x.bitPattern) }
        append(&out, UInt64(f.count))
        for x in f { append(&out, x.bitPattern) }
        out += Array(SHA256.hash(data: out))
        return out
    }

    static func append<T: FixedWidthInteger>(_ out: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    /// Writes `v` to `path` atomically.
    public static func write(_ v: ModelVersion, to path: String) throws {
        guard v.weights.flattened().allSatisfy(\.isFinite), v.factors.flattened().allSatisfy(\.isFinite) else {
            throw ModelFileError("refusing to write a model with non-finite weights")
        }
        let bytes = try encode(v)
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let tmp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw ModelFileError("cannot create \(tmp): \(String(cString: strerror(errno)))") }
        var ok = bytes.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok, rename(tmp, path) == 0 else {
            unlink(tmp)
            throw ModelFileError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        let dfd = open(dir, O_RDONLY)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }

    /// Reads and verifies a model file.
    public static func read(path: String) throws -> ModelVersion {
        try decode(readBytes(path), name: path)
    }

    /// The file's bytes, read straight into one array (a model is tens of MB: each copy through `Data`
    /// cost page faults at start-up).
    static func readBytes(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ModelFileError("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ModelFileError("cannot stat \(path): \(String(cString: strerror(errno)))") }
        let size = Int(st.st_size)
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var done = 0
            while done < size {
                let n = Foundation.read(fd, buffer.baseAddress! + done, size - done)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else {
                    failure = n == 0 ? -1 : errno
                    break
                }
                done += n
            }
            count = done
        }
        guard failure == 0 else {
            throw ModelFileError("cannot read \(path): \(failure < 0 ? "file shrank while reading" : String(cString: strerror(failure)))")
        }
        return bytes
    }

    public static func decode(_ b: [UInt8], name: String = "model") throws -> ModelVersion {
        guard b.count >= 8 + 8 + 8 + 8 + 32 else { throw ModelFileError("\(name): truncated (\(b.count) bytes)") }
        guard Array(b[0..<8]) == magic else { throw ModelFileError("\(name): not a Duet model file (bad magic)") }
        let body = b[0..<(b.count - 32)]
        guard Array(SHA256.hash(data: body)) == Array(b[(b.count - 32)...]) else {
            throw ModelFileError("\(name): checksum mismatch (truncated or modified)")
        }
        var r = Reader(bytes: b, offset: 8, end: b.count - 32, name: name)
        let version: UInt32 = try r.int()
        guard version == formatVersion else { throw ModelFileError("\(name): format version \(version) is not supported (expected \(formatVersion))") }
        let headerLength: UInt32 = try r.int()
        let json = try r.bytes(Int(headerLength))
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: Data(json)) } catch {
            throw ModelFileError("\(name): bad header: \(error)")
        }
        let wCount: UInt64 = try r.int()
        guard wCount == UInt64(header.config.size) else { throw ModelFileError("\(name): \(wCount) weights for \(header.config.bits) bits") }
        let w = try r.pages(Int(wCount))
        let fCount: UInt64 = try r.int()
        guard fCount == UInt64(header.config.size * header.config.k) else { throw ModelFileError("\(name): \(fCount) factors for k = \(header.config.k)") }
        let f = try r.pages(Int(fCount))
        guard r.offset == r.end else { throw ModelFileError("\(name): \(r.end - r.offset) unexpected bytes after the weights") }
        guard let w, let f else { throw ModelFileError("\(name): non-finite weights") }
        return ModelVersion(
            id: header.id, parentID: header.parent_id, kind: header.kind, createdAt: Date(timeIntervalSince1970: header.created_at),
            examples: header.examples, metrics: header.metrics, config: header.config, positives: header.positives, seen: header.seen,
            weights: w, factors: f)
    }

    struct Reader {
        let bytes: [UInt8]
        var offset: Int
        let end: Int
        let name: String

        mutating func bytes(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, offset + n <= end else { throw ModelFileError("\(name): truncated") }
            defer { offset += n }
            return bytes[offset..<(offset + n)]
        }

        mutating func int<T: FixedWidthInteger>() throws -> T {
            let s = try bytes(MemoryLayout<T>.size)
            var v: T = 0
            for (i, byte) in s.enumerated() { v |= T(byte) << (8 * i) }
            return v
        }

        /// `n` little-endian floats as weight pages, copied once from the file's bytes; nil if any is
        /// not finite.
        mutating func pages(_ n: Int) throws -> WeightPages? {
            let s = try bytes(4 * n)
            var pages: [WeightPages.Page] = []
            pages.reserveCapacity((n + WeightPages.pageSize - 1) / WeightPages.pageSize)
            var finite = true
            s.withUnsafeBytes { raw in
                var start = 0
                while start < n {
                    let m = min(WeightPages.pageSize, n - start)
                    let values = [Float](unsafeUninitializedCapacity: m) { out, count in
                        for i in 0..<m {
                            out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * (start + i), as: UInt32.self)))
                        }
                        count = m
                    }
                    finite = finite && values.allSatisfy(\.isFinite)
                    pages.append(WeightPages.Page(values))
                    start += m
                }
            }
            return finite ? WeightPages(count: n, pages: pages) : nil
        }
    }
}

public struct ModelFileError: Error, CustomStringConvertible, Sendable {
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
