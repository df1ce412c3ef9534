import Foundation

/// The model files of a directory (`models/static`, `models/online`).
enum ModelFiles {
    /// `*.duet` files of `directory`, oldest first (by modification time, then name).
    static func list(in directory: String) -> [String] {
        let fm = FileManager.default
        let names = (try? fm.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".duet") && !$0.hasPrefix(".") }.map { directory + "/" + $0 }.sorted { a, b in
            let ta = (try? fm.attributesOfItem(atPath: a)[.modificationDate] as? Date) ?? .distantPast
            let tb = (try? fm.attributesOfItem(atPath: b)[.modificationDate] as? Date) ?? .distantPast
            return ta == tb ? a < b : ta < tb
        }
    }

    /// Removes what interrupted writes left in `directory`: `ModelFile.write`'s temporary files
    /// (`.<name>.tmp-<pid>-<n>`) whose writer process is gone, and a stray `.CURRENT.tmp`. Returns
    /// the bytes freed.
    @discardableResult
    static func removeInterruptedWrites(in directory: String) -> Int {
        let fm = FileManager.default
        var freed = 0
        for name in (try? fm.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(".") {
            let path = directory + "/" + name
            if name != ".CURRENT.tmp" {
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
