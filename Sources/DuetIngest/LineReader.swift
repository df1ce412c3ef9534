import DuetModels
import Foundation

/// Reads a file in 1 MiB chunks and hands out its lines as raw bytes: no String per line, and no
/// copy of the whole file in memory (a 1M-row OBD log is 330 MB).
///
///     let reader = try LineReader(path: path)
///     while let line = try reader.next() { … reader.lineNumber … }
public final class LineReader {
    /// The file's path (or what stands for it in errors, e.g. `stdin`).
    public let path: String
    /// The number of the line `next()` returned last, from 1.
    public private(set) var lineNumber = 0
    private let fd: Int32
    private let ownsDescriptor: Bool
    private var buffer: UnsafeMutableRawPointer
    private var capacity = 1 << 20
    private var filled = 0
    private var start = 0
    private var atEnd = false

    public init(path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw LogError("\(path): no such file") }
        guard !isDirectory.boolValue else { throw LogError("\(path): cannot read") }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw LogError("\(path): cannot read (\(String(cString: strerror(errno))))") }
        self.path = path
        self.fd = fd
        ownsDescriptor = true
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    /// Reads an open descriptor (e.g. 0, standard input), which it leaves open; `name` stands for
    /// the path in errors.
    public init(fileDescriptor: Int32, name: String) {
        path = name
        fd = fileDescriptor
        ownsDescriptor = false
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit {
        if ownsDescriptor { close(fd) }
        buffer.deallocate()
    }

    /// The next line without its `\n` or a trailing `\r` (empty lines included), valid until the
    /// next call; nil at the end of the file.
    public func next() throws -> UnsafeRawBufferPointer? {
        while true {
            let base = UnsafeRawPointer(buffer)
            if start < filled, let nl = memchr(base + start, 0x0A, filled - start) {
                let end = base.distance(to: UnsafeRawPointer(nl))
                defer { start = end + 1 }
                return line(start, end)
            }
            if atEnd {
                guard start < filled else { return nil }
                defer { start = filled }
                return line(start, filled)
            }
            try refill()
        }
    }

    private func line(_ from: Int, _ to: Int) -> UnsafeRawBufferPointer {
        lineNumber += 1
        var end = to
        if end > from && buffer.load(fromByteOffset: end - 1, as: UInt8.self) == 0x0D { end -= 1 }
        return UnsafeRawBufferPointer(start: buffer + from, count: end - from)
    }

    /// Moves the unread tail to the front and reads more (growing the buffer for a very long line).
    private func refill() throws {
        if start > 0 {
            if filled > start { memmove(buffer, buffer + start, filled - start) }
            filled -= start
            start = 0
        }
        if filled == capacity {
            let bigger = UnsafeMutableRawPointer.allocate(byteCount: capacity * 2, alignment: 16)
            bigger.copyMemory(from: buffer, byteCount: filled)
            buffer.deallocate()
            buffer = bigger
            capacity *= 2
        }
        while true {
            let r = read(fd, buffer + filled, capacity - filled)
            if r < 0 {
                if errno == EINTR { continue }
                throw LogError("\(path): cannot read (\(String(cString: strerror(errno))))")
            }
            if r == 0 { atEnd = true } else { filled += r }
            return
        }
    }
}
