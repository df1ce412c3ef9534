import Foundation

/// The model files of a directory (`models/static`, `models/online`).
enum ModelFiles {
    /// `*.duet` files of `directory`, oldest first (by modification time, then name).
    static func list(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".duet") && !$0.hasPrefix(".") }.map { directory + "/" + $0 }.sorted { a, b in
            let ta = modified(a), tb = modified(b)
            return ta == tb ? a < b : ta < tb
        }
    }

    /// When the file at `path` was last written (the distant past when it cannot be read).
    static func modified(_ path: String) -> Date {
        (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? .distantPast
    }

    /// A write of a small file (`CURRENT`, `RESERVED`) that never leaves it half written: a
    /// temporary file beside it, `fsync`, then `rename` (what `ModelFile.write` does for models).
    static func writeText(_ text: String, to path: String) throws {
        let tmp = (path as NSString).deletingLastPathComponent + "/." + (path as NSString).lastPathComponent + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WriteError(description: "cannot write \(tmp): \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        let ok = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count && fsync(fd) == 0
        close(fd)
        guard ok, rename(tmp, path) == 0 else {
            unlink(tmp)
            throw WriteError(description: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    struct WriteError: Error, CustomStringConvertible {
        var description: String
    }

    /// Removes what interrupted writes left in `directory`: `ModelFile.write`'s temporary files
    /// (`.<name>.tmp-<pid>-<n>`) whose writer process is gone, and a stray `writeText` temporary
    /// (`.CURRENT.tmp`, `.RESERVED.tmp`). Returns
    /// the bytes freed.
    @discardableResult
    static func removeInterruptedWrites(in directory: String) -> Int {
        let fm = FileManager.default
        var freed = 0
        for name in (try? fm.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(".") {
            let path = directory + "/" + name
            if !(name.hasSuffix(".tmp") && !name.contains(".tmp-")) {
                // `.<name>.tmp-<pid>-<n>`: keep it while its writer may still be running.
                guard let range = name.range(of: ".tmp-", options: .backwards) else { continue }
                let parts = name[range.upperBound...].split(separator: "-")
                guard parts.count == 2, let pid = Int32(parts[0]) else { continue }
                if kill(pid, 0) == 0 || errno != ESRCH { continue }
            }
            freed += (try? fm.attributesOfItem(atPath: path))?[.size] as? Int ?? 0
            try? fm.removeItem(atPath: path)
        }
        return freed
    }
}
