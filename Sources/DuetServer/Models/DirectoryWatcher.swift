import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Watches one directory with inotify and reports files that were renamed into it or finished
/// writing. Runs on its own thread (inotify reads block), never on an event loop.
///
///     let watcher = try DirectoryWatcher(path: dir) { name in print("new file", name) }
///     watcher.start()
///     ...
///     watcher.stop()
public final class DirectoryWatcher: Sendable {
    public let path: String
    private let fd: Int32
    private let onFile: @Sendable (String) -> Void
    private let stopped = Atomic<Bool>(false)

    public init(path: String, onFile: @escaping @Sendable (String) -> Void) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { throw ConfigurationError(message: "inotify_init1 failed: errno \(errno)") }
        let mask = UInt32(IN_MOVED_TO | IN_CLOSE_WRITE)
        guard inotify_add_watch(fd, path, mask) >= 0 else {
            close(fd)
            throw ConfigurationError(message: "cannot watch \(path): errno \(errno)")
        }
        self.path = path
        self.fd = fd
        self.onFile = onFile
    }

    /// Starts the watching thread.
    public func start() {
        let thread = Thread { [self] in self.loop() }
        thread.name = "duet-watch"
        thread.start()
    }

    /// Stops the thread (within ~100 ms) and closes the inotify descriptor.
    public func stop() {
        stopped.store(true, ordering: .releasing)
    }

    private func loop() {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !stopped.load(ordering: .acquiring) {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, 100)
            guard ready > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { continue }
            var offset = 0
            while offset + MemoryLayout<inotify_event>.size <= n {
                let (len, name) = buffer.withUnsafeBytes { raw -> (Int, String) in
                    let event = raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    let nameStart = offset + MemoryLayout<inotify_event>.size
                    let nameBytes = raw[nameStart..<(nameStart + Int(event.len))].prefix { $0 != 0 }
                    return (Int(event.len), String(decoding: nameBytes, as: UTF8.self))
                }
                if !name.isEmpty { onFile(name) }
                offset += MemoryLayout<inotify_event>.size + len
            }
        }
        close(fd)
    }
}
