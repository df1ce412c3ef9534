import DuetTestSupport
import Foundation
import Testing

/// Every `duet …` command line in the docs names a real subcommand and real flags (the real binary's
/// `--help` decides).
@Suite struct DocumentedCommandsTests {
    static let documents = ["README.md", "deploy/README.md", "docs/deploy.md", "docs/features.md", "docs/architecture.md"]

    /// The `duet …` lines of the documents' code blocks, without trailing comments.
    static func commandLines() throws -> [(file: String, line: String)] {
        var out: [(String, String)] = []
        for doc in documents {
            let text = try String(contentsOf: TestSupport.packageRoot.appendingPathComponent(doc), encoding: .utf8)
            var inCode = false
            for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.hasPrefix("```") { inCode.toggle(); continue }
                guard inCode, line.hasPrefix("duet ") else { continue }
                out.append((doc, String(line.split(separator: "#", maxSplits: 1)[0]).trimmingCharacters(in: .whitespaces)))
            }
        }
        return out
    }

    @Test func everyDocumentedCommandAndFlagExists() throws {
        let lines = try Self.commandLines()
        #expect(lines.count >= 10)
        var helps: [String: String] = [:]
        func help(_ path: [String]) throws -> String {
            let key = path.joined(separator: " ")
            if let h = helps[key] { return h }
            let r = try TestSupport.run(path + ["--help"])
            let h = r.status == 0 ? r.stdout + r.stderr : ""
            helps[key] = h
            return h
        }
        for (file, line) in lines {
            let words = line.split(separator: " ").dropFirst().map(String.init)
            // The subcommand path: words while each is listed among its parent's subcommands.
            var path: [String] = []
            for w in words where !w.hasPrefix("-") {
                let parent = try help(path)
                guard parent.contains("SUBCOMMANDS:"), parent.range(of: "\n  \(w) ") != nil || parent.range(of: "\n  \(w)\n") != nil else { break }
                path.append(w)
            }
            #expect(!path.isEmpty, "\(file): `\(line)`: no such subcommand")
            let text = try help(path)
            for flag in words where flag.hasPrefix("--") {
                let name = String(flag.split(separator: "=")[0])
                #expect(text.contains(name), "\(file): `\(line)`: `duet \(path.joined(separator: " "))` has no \(name)")
            }
        }
    }
}
