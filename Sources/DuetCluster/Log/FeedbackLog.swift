import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The embedded feedback log: an append-only file log of accepted feedback, in segments of
/// checksummed records, each with a sequence number that is never reused.
///
/// - `append` returns once the record is written (and, with `sync: .always`, on the disk); a
///   caller acknowledges feedback only then. Appends are written by one thread of the log's own,
///   in batches (group commit), never on the caller's thread.
/// - Segments are files `<first sequence, 20 digits>.log`; the active one rolls over at
///   `segmentBytes`. `trim(through:)` deletes whole segments every record of which is at or below
///   a sequence (what a checkpoint has learned); the active segment stays, so the numbering survives.
/// - Opening scans every segment. A torn tail (a crash mid-write) is cut off with a warning; damage
///   inside an older segment is logged, and reads skip the rest of that segment.
///
///     let log = try FeedbackLog(directory: "data/feedback")
///     let seq = try await log.append(bytes)
///     try log.records(after: checkpointOffset) { record in … }
public final class FeedbackLog: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var directory: String
        public var sync: FeedbackLogSync = .everysec
        public var segmentBytes: Int = 16 << 20
        public init(directory: String, sync: FeedbackLogSync = .everysec, segmentBytes: Int = 16 << 20) {
            self.directory = directory
            self.sync = sync
            self.segmentBytes = segmentBytes
        }
    }

    /// What opening found.
    public struct Recovery: Sendable, Equatable {
        /// Records found intact.
        public var records: Int = 0
        /// Bytes cut from the end of the last segment (a torn record).
        public var tornTailBytes: Int = 0
        /// Bytes skipped inside older segments (damage).
        public var damagedBytes: Int = 0
    }

    struct Segment {
        var first: UInt64
        var path: String
    }

    private struct Pending {
        var payload: [UInt8]
        var continuation: CheckedContinuation<UInt64, any Error>
    }

    public let configuration: Configuration
    public let recovery: Recovery
    private let logger: Logger
    /// Guards `pending` and `closing`; the writer thread waits on it. Never held across a write or an
    /// `fsync`, so an append (on a request's thread) waits for no disk.
    private let condition = NSCondition()
    private var pending: [Pending] = []
    private var closing = false
    /// Guards the files: everything below but `written`. Taken after `condition`, never before it.
    private let files = NSLock()
    private var closed = false
    private var segments: [Segment]
    /// The next record's sequence (writer thread, under `files`).
    private var nextSequence: UInt64
    /// The last record's sequence, for readers that must not wait for the disk (metrics).
    private let written: Atomic<UInt64>
    private var fd: Int32 = -1
    private var activeSize = 0
    private var lastSync = ContinuousClock.now
    private var unsynced = false
    private var writer: Thread?
    private let stopped = DispatchSemaphore(value: 0)

    /// Opens (creating it if needed) the log in `configuration.directory` and starts its writer.
    public init(configuration: Configuration, logger: Logger = Logger(label: "duet.feedback-log")) throws {
        self.configuration = configuration
        self.logger = logger
        let dir = configuration.directory
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw FeedbackLogError("feedback log: cannot create \(dir): \(error.localizedDescription)")
        }
        var found = try Self.listSegments(dir)
        var recovery = Recovery()
        var next: UInt64 = 1
        for (i, segment) in found.enumerated() {
            let isLast = i == found.count - 1
            let bytes = try Self.readFile(segment.path)
            var offset = 0
            var expected = segment.first
            bytes.withUnsafeBytes { raw in
                while let (record, after) = FeedbackLogRecord.decode(raw, at: offset), record.sequence == expected {
                    offset = after
                    expected += 1
                    recovery.records += 1
                }
            }
            next = expected
            guard offset < bytes.count else { continue }
            if isLast {
                recovery.tornTailBytes = bytes.count - offset
                guard truncate(segment.path, off_t(offset)) == 0 else {
                    throw FeedbackLogError("feedback log: cannot cut the torn tail of \(segment.path): \(String(cString: strerror(errno)))")
                }
                logger.warning("feedback log: torn tail record skipped", metadata: [
                    "file": "\(segment.path)", "offset": "\(offset)", "bytes": "\(bytes.count - offset)", "next_sequence": "\(expected)",
                ])
            } else {
                recovery.damagedBytes += bytes.count - offset
                logger.error("feedback log: damaged records skipped", metadata: [
                    "file": "\(segment.path)", "offset": "\(offset)", "bytes": "\(bytes.count - offset)", "after_sequence": "\(expected - 1)",
                ])
            }
        }
        // A segment may start past where the one before it ended (damage): never number backwards.
        if let last = found.last { next = max(next, last.first) }
        if found.isEmpty {
            let first = Segment(first: 1, path: Self.path(dir, first: 1))
            found.append(first)
        }
        self.segments = found
        self.nextSequence = next
        self.written = Atomic(next - 1)
        self.recovery = recovery
        try openActive()
        let thread = Thread { [self] in writeLoop() }
        thread.name = "duet-feedback-log"
        writer = thread
        thread.start()
    }

    public convenience init(directory: String, sync: FeedbackLogSync = .everysec, logger: Logger = Logger(label: "duet.feedback-log")) throws {
        try self.init(configuration: Configuration(directory: directory, sync: sync), logger: logger)
    }

    deinit { close() }

    /// The sequence of the last record written (0: none yet).
    public var lastSequence: UInt64 { written.load(ordering: .acquiring) }

    /// Appends `payload`; returns its sequence once written (and synced, with `.always`). Throws when
    /// the log is closed or the write failed (then nothing of it is in the log).
    public func append(_ payload: [UInt8]) async throws -> UInt64 {
        guard payload.count <= FeedbackLogRecord.maxPayload else {
            throw FeedbackLogError("feedback log: a record of \(payload.count) bytes is over the \(FeedbackLogRecord.maxPayload)-byte limit")
        }
        return try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            if closing {
                condition.unlock()
                continuation.resume(throwing: FeedbackLogError("feedback log: closed"))
                return
            }
            pending.append(Pending(payload: payload, continuation: continuation))
            condition.signal()
            condition.unlock()
        }
    }

    /// Calls `body` with every intact record whose sequence is above `sequence`, in order.
    public func records(after sequence: UInt64, _ body: (FeedbackLogRecord) throws -> Void) throws {
        let list: [Segment] = files.withLock { segments }
        for (i, segment) in list.enumerated() {
            // A segment whose successor starts at or below `sequence + 1` holds nothing wanted.
            if i + 1 < list.count, list[i + 1].first <= sequence + 1 { continue }
            let bytes = try Self.readFile(segment.path)
            var failure: (any Error)?
            bytes.withUnsafeBytes { raw in
                var offset = 0
                while let (record, after) = FeedbackLogRecord.decode(raw, at: offset) {
                    offset = after
                    guard record.sequence > sequence else { continue }
                    do { try body(record) } catch {
                        failure = error
                        return
                    }
                }
            }
            if let failure { throw failure }
        }
    }

    /// Deletes the segments every record of which is at or below `sequence`; never the active one.
    /// Returns how many were deleted.
    @discardableResult
    public func trim(through sequence: UInt64) -> Int {
        let doomed: [Segment] = files.withLock {
            var out: [Segment] = []
            while segments.count > 1, segments[1].first <= sequence + 1 {
                out.append(segments.removeFirst())
            }
            return out
        }
        for s in doomed { unlink(s.path) }
        return doomed.count
    }

    /// Makes the next record's sequence at least `sequence + 1` (a checkpoint that has learned past
    /// what the log holds: the log was replaced or lost; never number a record twice).
    public func skip(past sequence: UInt64) throws {
        try files.withLock {
            guard nextSequence <= sequence else { return }
            logger.error("feedback log: a checkpoint has learned past the log; numbering continues after it", metadata: [
                "log_next": "\(nextSequence)", "checkpoint": "\(sequence)",
            ])
            nextSequence = sequence + 1
            written.store(sequence, ordering: .releasing)
            try roll()
        }
    }

    /// The segment files, oldest first (for status and tests).
    public var segmentPaths: [String] { files.withLock { segments.map(\.path) } }

    /// Writes what is pending, syncs, and stops the writer. Appends after this throw.
    public func close() {
        condition.lock()
        if closing {
            condition.unlock()
            return
        }
        closing = true
        let started = writer != nil
        condition.signal()
        condition.unlock()
        if started { stopped.wait() }
    }

    // MARK: - Writer thread

    private func writeLoop() {
        var buffer: [UInt8] = []
        while true {
            condition.lock()
            while pending.isEmpty && !closing {
                if let due = files.withLock({ unsynced && configuration.sync == .everysec ? lastSync + .seconds(1) : nil }) {
                    if ContinuousClock.now >= due { break }
                    let wait = ContinuousClock.now.duration(to: due)
                    _ = condition.wait(until: Date(timeIntervalSinceNow: Double(wait.components.attoseconds) / 1e18 + Double(wait.components.seconds)))
                } else {
                    condition.wait()
                }
            }
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            let stop = closing && batch.isEmpty
            condition.unlock()
            files.lock()
            var results: [Result<UInt64, any Error>] = []
            if !batch.isEmpty {
                results = write(batch, buffer: &buffer)
            }
            if stop || (unsynced && (configuration.sync == .always && !batch.isEmpty || configuration.sync == .everysec && ContinuousClock.now - lastSync >= .seconds(1))) {
                if configuration.sync != .no || stop { sync() }
            }
            if stop {
                if fd >= 0 { Glibc.close(fd) }
                fd = -1
                closed = true
            }
            files.unlock()
            for (p, r) in zip(batch, results) { p.continuation.resume(with: r) }
            if stop {
                stopped.signal()
                return
            }
        }
    }

    /// Writes `batch` as consecutive records (under `files`). On failure the segment is cut back to
    /// where it was and every append of the batch fails.
    private func write(_ batch: [Pending], buffer: inout [UInt8]) -> [Result<UInt64, any Error>] {
        do {
            if activeSize >= configuration.segmentBytes { try roll() }
        } catch {
            return batch.map { _ in .failure(error) }
        }
        buffer.removeAll(keepingCapacity: true)
        let first = nextSequence
        for (i, p) in batch.enumerated() {
            FeedbackLogRecord(sequence: first + UInt64(i), payload: p.payload).encode(into: &buffer)
        }
        let ok = buffer.withUnsafeBytes { raw -> Bool in
            var done = 0
            while done < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                done += n
            }
            return true
        }
        guard ok else {
            let message = "feedback log: write to \(segments.last!.path) failed: \(String(cString: strerror(errno)))"
            _ = ftruncate(fd, off_t(activeSize))
            _ = lseek(fd, off_t(activeSize), SEEK_SET)
            logger.error("\(message)")
            return batch.map { _ in .failure(FeedbackLogError(message)) }
        }
        activeSize += buffer.count
        nextSequence = first + UInt64(batch.count)
        written.store(nextSequence - 1, ordering: .releasing)
        unsynced = true
        return batch.indices.map { .success(first + UInt64($0)) }
    }

    private func sync() {
        guard fd >= 0, unsynced else { return }
        if fsync(fd) != 0 { logger.error("feedback log: fsync failed", metadata: ["error": "\(String(cString: strerror(errno)))"]) }
        unsynced = false
        lastSync = .now
    }

    /// Closes the active segment (synced) and opens a new one starting at `nextSequence` (under `files`).
    private func roll() throws {
        if fd >= 0 {
            unsynced = true
            sync()
            Glibc.close(fd)
            fd = -1
        }
        let segment = Segment(first: nextSequence, path: Self.path(configuration.directory, first: nextSequence))
        segments.append(segment)
        try openActive()
        // The new file's name must survive a crash: sync the directory.
        let dirfd = open(configuration.directory, O_RDONLY)
        if dirfd >= 0 {
            _ = fsync(dirfd)
            Glibc.close(dirfd)
        }
    }

    private func openActive() throws {
        let path = segments.last!.path
        let f = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard f >= 0 else { throw FeedbackLogError("feedback log: cannot open \(path): \(String(cString: strerror(errno)))") }
        fd = f
        var st = stat()
        activeSize = fstat(f, &st) == 0 ? Int(st.st_size) : 0
    }

    // MARK: - Files

    static func path(_ directory: String, first: UInt64) -> String {
        let digits = String(first)
        return directory + "/" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".log"
    }

    static func listSegments(_ directory: String) throws -> [Segment] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw FeedbackLogError("feedback log: cannot list \(directory): \(error.localizedDescription)")
        }
        return names.compactMap { name -> Segment? in
            guard name.hasSuffix(".log"), let first = UInt64(name.dropLast(4)) else { return nil }
            return Segment(first: first, path: directory + "/" + name)
        }.sorted { $0.first < $1.first }
    }

    static func readFile(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FeedbackLogError("feedback log: cannot read \(path)")
        }
        return [UInt8](data)
    }
}
