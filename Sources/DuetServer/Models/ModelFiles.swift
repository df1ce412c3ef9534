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
}
