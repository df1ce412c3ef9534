import Foundation
import Synchronization

/// Online version ids are never reused, across crashes too: ids are reserved in blocks, and the
/// highest reserved id is on disk (`models/online/RESERVED`, written atomically) before any id of
/// the block is published. A restart continues after the reserved block, so ids may jump (by at
/// most `block`) but never repeat, though the versions published after the last checkpoint are gone.
final class VersionIDReservation: Sendable {
    let path: String
    let block: Int
    private let reserved: Mutex<Int>

    /// Reads the reservation (0 when there is none yet).
    init(directory: String, block: Int = 1000) throws {
        path = directory + "/RESERVED"
        self.block = block
        var value = 0
        if FileManager.default.fileExists(atPath: path) {
            let text = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            guard let v = Int(text), v >= 0 else {
                throw ReservationError(message: "\(path): expected a version number, found '\(text.prefix(40))'")
            }
            value = v
        }
        reserved = Mutex(value)
    }

    struct ReservationError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// The highest id reserved so far.
    var highest: Int { reserved.withLock { $0 } }

    /// After a graceful stop: only ids up to `id` were used, so the next start continues right after
    /// it instead of after the block.
    func settle(at id: Int) throws {
        try reserved.withLock { r in
            try ModelFiles.writeText("\(id)\n", to: path)
            r = id
        }
    }

    /// Makes sure every id up to `id + block / 2` is reserved on disk (extending by a whole block
    /// when needed): call before publishing `id`.
    func reserve(through id: Int) throws {
        try reserved.withLock { r in
            guard id + block / 2 > r else { return }
            let next = max(r, id) + block
            try ModelFiles.writeText("\(next)\n", to: path)
            r = next
        }
    }
}
