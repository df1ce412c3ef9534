import Crypto
import Foundation

/// The model file (`*.duet`), little-endian:
///
/// | bytes | content |
/// |---|---|
/// | 8 | magic `DUETMODL` |
/// | 4 | format version (u32): 1, or 2 when the file has an optimizer-state section |
/// | 4 | header length H (u32) |
/// | H | header: UTF-8 JSON — id, parent_id, kind, created_at, examples, metrics, config (bits, k, interactions, optimizer and its hyper-parameters), positives, seen; with a state section `optimizer_state` (`"adagrad"` or `"ftrl"`, the config's optimizer) and `optimizer_state_bytes` (S, the section's length) |
/// | 8 | weight count N (u64, = 2^bits) |
/// | 4·N | linear weights (f32) |
/// | 8 | factor count M (u64, = 2^bits·k) |
/// | 4·M | factor weights (f32), slot i's factor f at i·k + f |
/// | S | optional optimizer state (`OptimizerState`), S = 24 + 4·(N + M + Z): |
/// | 8 | accumulator count (u64, = N) |
/// | 4·N | per linear weight: AdaGrad Σg² (≥ 1) or FTRL n (≥ 0), f32, each ≤ 10³⁰ |
/// | 8 | factor accumulator count (u64, = M) |
/// | 4·M | per factor value: AdaGrad Σg² (≥ 1, ≤ 10³⁰) |
/// | 8 | z count Z (u64: N under FTRL, 0 under AdaGrad) |
/// | 4·Z | FTRL z (f32), each giving a weight within ±`maxAbsWeight` |
/// | 32 | SHA-256 of every byte before it |
///
/// A file without the state section (written before it existed, or by a writer that had none)
/// reads as before; its learner starts the optimizer fresh.
///
/// Written atomically (temporary file in the same directory, fsync, rename); read in one go and
/// refused whole when truncated, tampered with, inconsistent or out of range: the checksum proves
/// only that the file is whole, not that its writer meant well (`decode`).
public enum ModelFile {
    static let magic = Array("DUETMODL".utf8)
    /// Written for files without an optimizer state (readable by every build).
    static let formatVersion: UInt32 = 1
    /// Written for files with one (a build that predates the state refuses them by version, not by
    /// a puzzling layout error).
    static let formatVersionWithState: UInt32 = 2
    /// No weight of a file is larger in magnitude (trained weights stay below about 10³): sums and
    /// squares of weights times feature values stay finite, so a model that reads scores finitely.
    public static let maxAbsWeight: Float = 1e6

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
        /// Absent in files written before the feedback log (read as 0).
        var feedback_offset: UInt64?
        /// The optimizer whose state follows the factors; absent when no state does.
        var optimizer_state: ModelConfig.Optimizer?
        /// The optimizer-state section's length in bytes (with `optimizer_state`).
        var optimizer_state_bytes: UInt64?

        /// Longest id (a file name: checkpoints are written as `<id>.duet`).
        static let maxIDLength = 255
        /// Latest `created_at` taken (the year 5138): a date far beyond it is not a model's.
        static let maxCreatedAt = 1e11

        /// Throws for the first field no model may have; see `ModelConfig.validate`.
        func validate(name: String) throws(ModelFileError) {
            func invalid(_ field: String, _ value: Any, _ expected: String, nonFinite: Bool = false) -> ModelFileError {
                ModelFileError(nonFinite ? .nonFinite : .range, "\(name): header field \(field) = \(value): \(expected)")
            }
            func check(_ field: String, _ value: Double, within range: ClosedRange<Double>) throws(ModelFileError) {
                guard value.isFinite else { throw invalid(field, value, "must be a finite number", nonFinite: true) }
                guard range.contains(value) else { throw invalid(field, value, "must be within \(range.lowerBound)…\(range.upperBound)") }
            }
            for (field, value) in [("id", id as String?), ("parent_id", parent_id)] {
                guard let value else { continue }
                try Self.checkID(field, value, name: name)
            }
            try check("created_at", created_at, within: 0...Self.maxCreatedAt)
            guard examples >= 0 else { throw invalid("examples", examples, "must be at least 0") }
            try check("positives", positives, within: ModelConfig.countRange)
            try check("seen", seen, within: ModelConfig.countRange)
            if let logloss = metrics.logloss { try check("metrics.logloss", logloss, within: 0...Double.greatestFiniteMagnitude) }
            if let auc = metrics.auc { try check("metrics.auc", auc, within: 0...1) }
            try check("metrics.clicks", metrics.clicks, within: ModelConfig.countRange)
            guard metrics.examples >= 0 else { throw invalid("metrics.examples", metrics.examples, "must be at least 0") }
            do { try config.validate() } catch {
                throw invalid("config.\(error.field)", error.value, error.expected, nonFinite: error.nonFinite)
            }
            switch (optimizer_state, optimizer_state_bytes) {
            case (nil, nil): break
            case (let optimizer?, let length?):
                guard optimizer == config.optimizer else {
                    throw invalid("optimizer_state", optimizer.rawValue, "must be the config's optimizer (\(config.optimizer.rawValue))")
                }
                // bits and k are bounded now: the expected length fits an Int.
                guard length == UInt64(Self.stateLength(config)) else {
                    throw ModelFileError(
                        .layout, "\(name): header field optimizer_state_bytes = \(length): a \(optimizer.rawValue) state for bits = \(config.bits), "
                            + "k = \(config.k) has \(Self.stateLength(config)) bytes")
                }
            default:
                throw ModelFileError(.header, "\(name): bad header: optimizer_state and optimizer_state_bytes come together")
            }
        }

        /// Throws unless `value` is an id a version may have (`field` names it in the message): 1…255
        /// bytes usable as a file name.
        static func checkID(_ field: String, _ value: String, name: String) throws(ModelFileError) {
            guard !value.isEmpty, value.utf8.count <= maxIDLength, value != ".", value != "..",
                  !value.unicodeScalars.contains(where: { $0 == "/" || $0.properties.generalCategory == .control })
            else {
                throw ModelFileError(
                    .range, "\(name): header field \(field) = \(String(reflecting: String(value.prefix(80)))): "
                        + "must be 1…\(maxIDLength) bytes usable as a file name (no '/' or control characters)")
            }
        }

        /// The header of `v` (with `state`'s declaration when given).
        static func of(_ v: ModelVersion, optimizerState state: OptimizerState? = nil) -> Header {
            Header(
                id: v.id, parent_id: v.parentID, kind: v.kind, created_at: v.createdAt.timeIntervalSince1970, examples: v.examples,
                metrics: v.metrics, config: v.config, positives: v.positives, seen: v.seen,
                feedback_offset: v.feedbackOffset == 0 ? nil : v.feedbackOffset,
                optimizer_state: state?.optimizer, optimizer_state_bytes: state.map { _ in UInt64(Header.stateLength(v.config)) })
        }

        /// The header as the file holds it: JSON with sorted keys (so equal headers are equal bytes).
        func json() throws -> [UInt8] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoder.nonConformingFloatEncodingStrategy = .throw
            return Array(try encoder.encode(self))
        }

        /// Decodes a header's JSON and validates it (`validate`).
        static func decode(_ json: ArraySlice<UInt8>, name: String) throws(ModelFileError) -> Header {
            let header: Header
            do { header = try JSONDecoder().decode(Header.self, from: Data(json)) } catch {
                throw ModelFileError(.header, "\(name): bad header: \(error)")
            }
            try header.validate(name: name)
            return header
        }

        /// The version this header describes, with these weights and factors.
        func version(weights: WeightPages, factors: WeightPages) -> ModelVersion {
            ModelVersion(
                id: id, parentID: parent_id, kind: kind, createdAt: Date(timeIntervalSince1970: created_at),
                examples: examples, metrics: metrics, config: config, positives: positives, seen: seen,
                weights: weights, factors: factors, feedbackOffset: feedback_offset ?? 0)
        }

        /// The optimizer-state section's length for `config` (three counts and their floats).
        static func stateLength(_ config: ModelConfig) -> Int {
            let c = OptimizerState.counts(for: config)
            return 24 + 4 * (c.linear + c.factors + c.z)
        }
    }

    /// The file's bytes for `v` and, when given, its optimizer state (which must fit `v.config`).
    public static func encode(_ v: ModelVersion, optimizerState state: OptimizerState? = nil) throws -> [UInt8] {
        if let state, !state.fits(v.config) {
            throw ModelFileError(
                .layout, "\(v.id): the optimizer state (\(state.optimizer.rawValue), \(state.linear.count) + \(state.factors.count) + \(state.z.count) values) "
                    + "does not fit the model (\(v.config.optimizer.rawValue), bits = \(v.config.bits), k = \(v.config.k))")
        }
        let json = try Header.of(v, optimizerState: state).json()
        let w = v.weights.flattened(), f = v.factors.flattened()
        var out: [UInt8] = []
        out.reserveCapacity(8 + 8 + json.count + 16 + 4 * (w.count + f.count) + (state == nil ? 0 : Header.stateLength(v.config)) + 32)
        out += magic
        append(&out, state == nil ? formatVersion : formatVersionWithState)
        append(&out, UInt32(json.count))
        out += json
        for values in [w, f] + (state.map { [$0.linear, $0.factors, $0.z] } ?? []) {
            append(&out, UInt64(values.count))
            for x in values { append(&out, x.bitPattern) }
        }
        out += checksum(of: out)
        return out
    }

    static func append<T: FixedWidthInteger>(_ out: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    /// Writes `v` (and, when given, its optimizer state) to `path` atomically.
    public static func write(_ v: ModelVersion, optimizerState state: OptimizerState? = nil, to path: String) throws {
        // What could not be read back is not written (a checkpoint keeps CURRENT on the last good one).
        for (what, values) in [("weights", v.weights.flattened()), ("factors", v.factors.flattened())] {
            if let bad = values.first(where: { !(abs($0) <= maxAbsWeight) }) {
                throw ModelFileError(bad.isFinite ? .range : .nonFinite, "refusing to write \(path): \(what) hold \(bad); each must be finite and within ±\(maxAbsWeight)")
            }
        }
        if let state, state.fits(v.config), let problem = stateProblem(state, config: v.config) {
            throw ModelFileError(problem.reason, "refusing to write \(path): \(problem.message)")
        }
        let bytes = try encode(v, optimizerState: state)
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let tmp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw ModelFileError(.io, "cannot create \(tmp): \(String(cString: strerror(errno)))") }
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
            throw ModelFileError(.io, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        let dfd = open(dir, O_RDONLY)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }

    /// Reads and verifies a model file (its optimizer state, if any, is verified and let go).
    public static func read(path: String) throws(ModelFileError) -> ModelVersion {
        try decode(readBytes(path), name: path)
    }

    /// Reads and verifies a model file and keeps its optimizer state (nil when the file has none).
    public static func readWithOptimizerState(path: String) throws(ModelFileError) -> (version: ModelVersion, optimizerState: OptimizerState?) {
        try decodeWithOptimizerState(readBytes(path), name: path)
    }

    /// The file's bytes, read straight into one array (a model is tens of MB: each copy through `Data`
    /// cost page faults at start-up).
    static func readBytes(_ path: String) throws(ModelFileError) -> [UInt8] {
        // Non-blocking, so a FIFO named like a model cannot hold start-up; only regular files are read.
        let fd = open(path, O_RDONLY | O_NONBLOCK)
        guard fd >= 0 else { throw ModelFileError(.io, "cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ModelFileError(.io, "cannot stat \(path): \(String(cString: strerror(errno)))") }
        guard st.st_mode & S_IFMT == S_IFREG else { throw ModelFileError(.io, "cannot read \(path): not a regular file") }
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
            throw ModelFileError(.io, "cannot read \(path): \(failure < 0 ? "file shrank while reading" : String(cString: strerror(failure)))")
        }
        return bytes
    }

    /// Decodes and verifies a model file's bytes; `name` (the path) starts every error message.
    ///
    /// The file may come from anyone who can write to `models/`, checksum and all: every header field
    /// is checked before anything is allocated or computed from it (`Header.validate`), and every
    /// count against the bytes that are really there, so a hostile file is refused with a
    /// `ModelFileError`, never a trap.
    public static func decode(_ b: [UInt8], name: String = "model") throws(ModelFileError) -> ModelVersion {
        try decode(b, name: name, keepingState: false).version
    }

    /// Decodes and verifies a model file's bytes, as `decode`, keeping its optimizer state.
    public static func decodeWithOptimizerState(
        _ b: [UInt8], name: String = "model"
    ) throws(ModelFileError) -> (version: ModelVersion, optimizerState: OptimizerState?) {
        try decode(b, name: name, keepingState: true)
    }

    /// Without `keepingState` the state section is checked value by value but not kept (a version
    /// read for serving or history never needs it, and it is as large as the weights).
    static func decode(
        _ b: [UInt8], name: String, keepingState: Bool
    ) throws(ModelFileError) -> (version: ModelVersion, optimizerState: OptimizerState?) {
        guard b.count >= 8 + 8 + 8 + 8 + 32 else { throw ModelFileError(.truncated, "\(name): truncated (\(b.count) bytes)") }
        guard Array(b[0..<8]) == magic else { throw ModelFileError(.magic, "\(name): not a Duet model file (bad magic)") }
        try verifyChecksum(b, name: name)
        var r = Reader(bytes: b, offset: 8, end: b.count - 32, name: name)
        let version: UInt32 = try r.int("format version")
        guard version == formatVersion || version == formatVersionWithState else {
            throw ModelFileError(.version, "\(name): format version \(version) is not supported (expected \(formatVersion) or \(formatVersionWithState))")
        }
        let headerLength: UInt32 = try r.int("header length")
        let header = try Header.decode(r.bytes(Int(headerLength), "header (\(headerLength) bytes)"), name: name)
        guard (header.optimizer_state != nil) == (version == formatVersionWithState) else {
            let problem = version == formatVersionWithState ? "declares no" : "cannot carry an"
            throw ModelFileError(.layout, "\(name): format version \(version) \(problem) optimizer state")
        }
        // Both counts are bounded now (bits ≤ 28, k ≤ 64): 2^28·64 floats fit any Int.
        let size = header.config.size, factorCount = size * header.config.k
        let wCount: UInt64 = try r.int("weight count")
        guard wCount == UInt64(size) else {
            throw ModelFileError(.layout, "\(name): \(wCount) weights for bits = \(header.config.bits) (expected \(size))")
        }
        let w = try r.pages(size, "weights")
        let fCount: UInt64 = try r.int("factor count")
        guard fCount == UInt64(factorCount) else {
            throw ModelFileError(.layout, "\(name): \(fCount) factors for bits = \(header.config.bits), k = \(header.config.k) (expected \(factorCount))")
        }
        let f = try r.pages(factorCount, "factors")
        var state: OptimizerState?
        if let length = header.optimizer_state_bytes {
            // Declared in the header and checked against bits and k there; now against the bytes there are.
            guard length <= UInt64(r.remaining) else {
                throw ModelFileError(.truncated, "\(name): truncated: the optimizer state needs \(length) bytes, \(r.remaining) are left")
            }
            state = try r.optimizerState(config: header.config, keeping: keepingState)
        }
        guard r.offset == r.end else {
            let last = header.optimizer_state == nil ? "weights" : "optimizer state"
            throw ModelFileError(.layout, "\(name): \(r.end - r.offset) unexpected bytes after the \(last)")
        }
        return (header.version(weights: w, factors: f), state)
    }

    /// The trailer of a file (or a `ModelDelta`) whose other bytes are `body`: their SHA-256.
    static func checksum(of body: some DataProtocol) -> [UInt8] {
        Array(SHA256.hash(data: body))
    }

    /// Throws unless the last 32 bytes of `b` (at least 32 long) are the SHA-256 of the bytes before them.
    static func verifyChecksum(_ b: [UInt8], name: String) throws(ModelFileError) {
        guard checksum(of: b[0..<(b.count - 32)]) == Array(b[(b.count - 32)...]) else {
            throw ModelFileError(.checksum, "\(name): checksum mismatch (truncated or modified)")
        }
    }

    /// The error for a weight no file or delta may hold: `what[index] = value`.
    static func badWeight(_ value: Float, _ what: String, _ index: Int, name: String) -> ModelFileError {
        ModelFileError(value.isFinite ? .range : .nonFinite, "\(name): \(what)[\(index)] = \(value): must be finite and within ±\(maxAbsWeight)")
    }

    /// The first value of `state` no file may hold (see the layout above), or nil.
    static func stateProblem(_ state: OptimizerState, config: ModelConfig) -> (reason: ModelFileError.Reason, message: String)? {
        func check(_ values: [Float], _ what: String, min: Float) -> (reason: ModelFileError.Reason, message: String)? {
            guard let i = values.firstIndex(where: { !($0 >= min && $0 <= OptimizerState.maxAccumulator) }) else { return nil }
            return (values[i].isFinite ? .range : .nonFinite,
                    "optimizer state \(what)[\(i)] = \(values[i]): must be within \(min)…\(OptimizerState.maxAccumulator)")
        }
        if let p = check(state.linear, "linear", min: OptimizerState.minLinear(state.optimizer)) ?? check(state.factors, "factors", min: 1) { return p }
        for i in state.z.indices {
            let w = OptimizerState.ftrlWeight(
                z: state.z[i], n: state.linear[i], alpha: config.learningRate, beta: config.ftrlBeta, l1: config.l1, l2: config.l2)
            if !(abs(w) <= maxAbsWeight) {
                return (state.z[i].isFinite ? .range : .nonFinite,
                        "optimizer state z[\(i)] = \(state.z[i]): gives the weight \(w); it must be finite and within ±\(maxAbsWeight)")
            }
        }
        return nil
    }

    /// Reads the body of a file front to back; every read is checked against the bytes left, so a
    /// count from the file can ask for more than is there but never gets it.
    struct Reader {
        let bytes: [UInt8]
        var offset: Int
        let end: Int
        let name: String

        var remaining: Int { end - offset }

        mutating func bytes(_ n: Int, _ what: String) throws(ModelFileError) -> ArraySlice<UInt8> {
            guard n >= 0, n <= remaining else {
                throw ModelFileError(.truncated, "\(name): truncated: the \(what) need \(n) bytes, \(remaining) are left")
            }
            defer { offset += n }
            return bytes[offset..<(offset + n)]
        }

        mutating func int<T: FixedWidthInteger>(_ what: String) throws(ModelFileError) -> T {
            let s = try bytes(MemoryLayout<T>.size, what)
            var v: T = 0
            for (i, byte) in s.enumerated() { v |= T(byte) << (8 * i) }
            return v
        }

        /// An unsigned LEB128 varint (7 bits a byte, low first; the shortest encoding only, at most 10
        /// bytes, within UInt64): the entry counts and index gaps of a `ModelDelta`.
        mutating func varint(_ what: @autoclosure () -> String) throws(ModelFileError) -> UInt64 {
            var value: UInt64 = 0
            for i in 0..<10 {
                guard offset < end else { throw ModelFileError(.truncated, "\(name): truncated: the \(what()) runs past the end") }
                let byte = bytes[offset]
                offset += 1
                guard i < 9 || byte <= 1 else { throw ModelFileError(.layout, "\(name): the \(what()) overflows 64 bits") }
                value |= UInt64(byte & 0x7F) << (7 * i)
                if byte & 0x80 == 0 {
                    guard byte != 0 || i == 0 else { throw ModelFileError(.layout, "\(name): the \(what()) is not in its shortest encoding") }
                    return value
                }
            }
            throw ModelFileError(.layout, "\(name): the \(what()) overflows 64 bits")
        }

        /// `n` little-endian floats as one array.
        mutating func floats(_ n: Int, _ what: String) throws(ModelFileError) -> [Float] {
            let (byteCount, overflow) = n.multipliedReportingOverflow(by: 4)
            guard !overflow else { throw ModelFileError(.truncated, "\(name): truncated: \(n) \(what) do not fit in the file") }
            let s = try bytes(byteCount, "\(n) \(what)")
            return s.withUnsafeBytes { raw in
                [Float](unsafeUninitializedCapacity: n) { out, count in
                    for i in 0..<n { out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
                    count = n
                }
            }
        }

        /// The optimizer-state section: three counts, each as `config` requires, and their values,
        /// each within range (`stateProblem`). Without `keeping` it returns nil after the checks.
        mutating func optimizerState(config: ModelConfig, keeping: Bool) throws(ModelFileError) -> OptimizerState? {
            let expected = OptimizerState.counts(for: config)
            var arrays: [[Float]] = []
            for (what, n) in [("accumulators", expected.linear), ("factor accumulators", expected.factors), ("z values", expected.z)] {
                let count: UInt64 = try int("optimizer state \(what) count")
                guard count == UInt64(n) else {
                    throw ModelFileError(
                        .layout,
                        "\(name): \(count) optimizer state \(what) for a \(config.optimizer.rawValue) model with bits = \(config.bits), k = \(config.k) (expected \(n))")
                }
                arrays.append(try floats(n, "optimizer state \(what)"))
            }
            let state = OptimizerState(optimizer: config.optimizer, linear: arrays[0], factors: arrays[1], z: arrays[2])
            if let problem = ModelFile.stateProblem(state, config: config) {
                throw ModelFileError(problem.reason, "\(name): \(problem.message)")
            }
            return keeping ? state : nil
        }

        /// `n` little-endian floats as weight pages, copied once from the file's bytes; each finite and
        /// within ±`maxAbsWeight`.
        mutating func pages(_ n: Int, _ what: String) throws(ModelFileError) -> WeightPages {
            let (byteCount, overflow) = n.multipliedReportingOverflow(by: 4)
            guard !overflow else { throw ModelFileError(.truncated, "\(name): truncated: \(n) \(what) do not fit in the file") }
            let s = try bytes(byteCount, "\(n) \(what)")
            var pages: [WeightPages.Page] = []
            pages.reserveCapacity((n + WeightPages.pageSize - 1) / WeightPages.pageSize)
            var inRange = true
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
                    // One comparison per value; NaN fails it too.
                    inRange = inRange && values.allSatisfy { abs($0) <= maxAbsWeight }
                    pages.append(WeightPages.Page(values))
                    start += m
                }
            }
            let result = WeightPages(count: n, pages: pages)
            guard inRange else {
                let values = result.flattened(), i = values.firstIndex { !(abs($0) <= maxAbsWeight) }!
                throw ModelFile.badWeight(values[i], what, i, name: name)
            }
            return result
        }
    }
}

/// Why a model file was not read or written: a `reason` (the `reason` label of
/// `duet_model_files_refused_total`) and a message naming the file and, for a bad header, the field.
public struct ModelFileError: Error, CustomStringConvertible, Sendable {
    public enum Reason: String, Sendable, CaseIterable {
        /// The file could not be opened, read or written.
        case io
        /// It ends before what it declares (too short, or a length or count beyond its end).
        case truncated
        /// It does not start with `DUETMODL`.
        case magic
        /// Its SHA-256 trailer does not match (cut short or modified).
        case checksum
        /// A format version this build does not read.
        case version
        /// The header is not the expected JSON.
        case header
        /// A header field outside what a model may have (bits, k, a step size, a count, the id).
        case range
        /// A NaN or infinite number, in the header or among the weights.
        case nonFinite = "non_finite"
        /// Weight or factor counts that disagree with bits and k, or bytes after the weights.
        case layout
        /// A model delta applied to another version than the one it was made from (another id or
        /// shape; `ModelDelta`), or made between versions of different shapes.
        case wrongBase = "wrong_base"
    }

    public var reason: Reason
    public var message: String
    init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }
    public var description: String { message }
}
