import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One server per data directory: an exclusive `flock` on `<data>/duet.lock`, taken before anything
/// in the directory is read and held until the process ends (the kernel releases it on any exit,
/// `kill -9` included, so a crashed server never leaves a stale lock behind).
///
///     let lock = try DataDirectoryLock(directory: "duet-data")   // throws when another server has it
public final class DataDirectoryLock: Sendable {
    public let path: String
    private let fd: Int32

    public init(directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ConfigurationError(message: "--data-dir \(directory): cannot create it: \(error.localizedDescription)")
        }
        path = directory + "/duet.lock"
        let f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard f >= 0 else { throw ConfigurationError(message: "--data-dir \(directory): cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(f, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let why = String(cString: strerror(errno))
            var owner = ""
            if busy, let text = try? String(contentsOfFile: path, encoding: .utf8), let pid = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                owner = " (pid \(pid))"
            }
            close(f)
            throw ConfigurationError(message: busy
                ? "--data-dir \(directory) is in use by another duet serve\(owner); one server per data directory"
                : "--data-dir \(directory): cannot lock \(path): \(why)")
        }
        fd = f
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(f, 0)
        _ = pid.withUnsafeBytes { pwrite(f, $0.baseAddress, $0.count, 0) }
    }

    deinit { close(fd) }
}
