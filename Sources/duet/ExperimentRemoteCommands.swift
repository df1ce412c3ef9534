import ArgumentParser
import Foundation

/// The `duet experiment` verbs that talk to a running server (apply, list, history, diff, revert, report).
enum ExperimentRemote {
    static func printJSON(_ value: Any) throws {
        let data = try JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    static func readFile(_ path: String) throws -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw CLIError("\(path): cannot read: \(error.localizedDescription)")
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "apply", abstract: "Validate and apply experiment configs to a running server: all files or none.")
        @Argument(help: "Experiment YAML files.") var files: [String]
        @OptionGroup var server: ServerOptions

        func run() async throws {
            let configs = try files.map { ["file": $0, "yaml": try ExperimentRemote.readFile($0)] }
            let client = try server.client
            let reply = try await client.send("PUT", "/v1/admin/experiments", body: try JSONSerialization.data(withJSONObject: ["configs": configs]))
            if reply.status == 422, let obj = reply.json as? [String: Any], let err = obj["error"] as? [String: Any] {
                for line in err["details"] as? [String] ?? [err["message"] as? String ?? "invalid"] {
                    FileHandle.standardError.write(Data((line + "\n").utf8))
                }
                throw ExitCode(1)
            }
            try AdminClient.check(reply, method: "PUT", path: "/v1/admin/experiments")
            for a in (reply.json as? [String: Any])?["applied"] as? [[String: Any]] ?? [] {
                print("applied \(a["key"] as? String ?? "?") revision \(a["revision"] as? Int ?? 0)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Live experiments: revision, split, SRM.")
        @Flag(help: "Print the server's JSON.") var json = false
        @OptionGroup var server: ServerOptions

        func run() async throws {
            let reply = try await server.client.call("GET", "/v1/admin/experiments")
            if json { return try ExperimentRemote.printJSON(reply) }
            for e in (reply as? [String: Any])?["experiments"] as? [[String: Any]] ?? [] {
                let srm = e["srm_p_value"] as? Double ?? 1
                print("\(e["key"] as? String ?? "?")\trevision \(e["revision"] as? Int ?? 0)\t\(e["status"] as? String ?? "?")\tSRM p=\(String(format: "%.4g", srm))\(srm < 0.001 ? "  MISMATCH" : "")")
                let arms = e["arms"] as? [[String: Any]] ?? []
                let total = max(1, arms.reduce(0) { $0 + ($1["assigned"] as? Int ?? 0) })
                for a in arms {
                    let assigned = a["assigned"] as? Int ?? 0
                    print(String(format: "  %@\t%@\tconfigured %.1f%%\tobserved %.1f%% (%d)",
                                 a["name"] as? String ?? "?", a["model"] as? String ?? "?", (a["weight"] as? Double ?? 0) * 100,
                                 Double(assigned) / Double(total) * 100, assigned))
                }
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "history", abstract: "Every revision of an experiment.")
        @Argument var key: String
        @Flag(help: "Print the server's JSON.") var json = false
        @OptionGroup var server: ServerOptions

        func run() async throws {
            let reply = try await server.client.call("GET", "/v1/admin/experiments/\(key)/history")
            if json { return try ExperimentRemote.printJSON(reply) }
            for r in (reply as? [String: Any])?["revisions"] as? [[String: Any]] ?? [] {
                let at = Date(timeIntervalSince1970: r["created_at"] as? Double ?? 0)
                let revert = (r["reverted_from"] as? Int).map { "  (revert to \($0))" } ?? ""
                print("revision \(r["revision"] as? Int ?? 0)\t\(at)\tby \(r["author"] as? String ?? "?")\(revert)")
            }
        }
    }

    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "diff", abstract: "Show how a config file differs from the live revision.")
        @Argument var file: String
        @OptionGroup var server: ServerOptions

        func run() async throws {
            let local = try ExperimentRemote.readFile(file)
            guard let key = local.split(separator: "\n").first(where: { $0.hasPrefix("key:") })
                .map({ $0.dropFirst(4).trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'")) })
            else { throw CLIError("\(file): key: missing") }
            let client = try server.client
            let reply = try await client.send("GET", "/v1/admin/experiments/\(key)")
            let live: String
            if reply.status == 404 {
                live = ""
            } else {
                try AdminClient.check(reply, method: "GET", path: "/v1/admin/experiments/\(key)")
                live = (reply.json as? [String: Any])?["yaml"] as? String ?? ""
            }
            let lines = ExperimentRemote.lineDiff(old: live, new: local)
            if lines.isEmpty { print("\(key): no change from the live revision") } else {
                print("--- live \(key)\n+++ \(file)")
                lines.forEach { print($0) }
            }
        }
    }

    /// A minimal line diff (longest common subsequence), `-` for live-only lines, `+` for file-only.
    static func lineDiff(old: String, new: String) -> [String] {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var lcs = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        var out: [String] = [], i = 0, j = 0, changed = false
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] { out.append("  " + a[i]); i += 1; j += 1 }
            else if i < a.count, j == b.count || lcs[i + 1][j] >= lcs[i][j + 1] { out.append("- " + a[i]); i += 1; changed = true }
            else { out.append("+ " + b[j]); j += 1; changed = true }
        }
        return changed ? out : []
    }

    struct Revert: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "revert", abstract: "Re-apply an earlier revision (default: the one before the live one).")
        @Argument var key: String
        @Option(help: "Revision number to go back to.") var to: Int?
        @OptionGroup var server: ServerOptions

        func run() async throws {
            var body: [String: Any] = [:]
            if let to { body["to"] = to }
            let reply = try await server.client.call("POST", "/v1/admin/experiments/\(key)/revert", json: body)
            for a in (reply as? [String: Any])?["applied"] as? [[String: Any]] ?? [] {
                print("reverted \(a["key"] as? String ?? "?"): now revision \(a["revision"] as? Int ?? 0)")
            }
        }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "report", abstract: "Per-arm results of a live experiment.")
        @Argument var key: String
        @Flag(help: "Print the server's JSON.") var json = false
        @OptionGroup var server: ServerOptions

        func run() async throws {
            let reply = try await server.client.call("GET", "/v1/admin/experiments/\(key)/report")
            if json { return try ExperimentRemote.printJSON(reply) }
            print(ExperimentRemote.formatReport(reply as? [String: Any] ?? [:]))
        }
    }

    /// The per-arm table shared by `duet experiment report` and `duet demo`.
    static func formatReport(_ r: [String: Any]) -> String {
        func pad(_ s: String, _ n: Int, right: Bool = false) -> String {
            s.count >= n ? s : (right ? String(repeating: " ", count: n - s.count) + s : s + String(repeating: " ", count: n - s.count))
        }
        var out = "experiment \(r["experiment"] as? String ?? "?") (revision \(r["revision"] as? Int ?? 0))\n"
        out += pad("arm", 10) + " " + pad("model", 12) + " " + pad("requests", 9, right: true) + " " + pad("feedback", 9, right: true) + " "
            + pad("clicks", 7, right: true) + "  " + pad("CTR [95% CI]", 26) + " " + pad("logloss", 8, right: true) + " " + pad("versions", 8, right: true) + "\n"
        for a in r["arms"] as? [[String: Any]] ?? [] {
            let ctr = String(format: "%.3f%% [%.3f, %.3f]", (a["ctr"] as? Double ?? 0) * 100, (a["ctr_low"] as? Double ?? 0) * 100, (a["ctr_high"] as? Double ?? 0) * 100)
            let loss = (a["logloss"] as? Double).map { String(format: "%.5f", $0) } ?? "-"
            out += pad(a["arm"] as? String ?? "?", 10) + " " + pad(a["model"] as? String ?? "?", 12) + " "
                + pad("\(a["requests"] as? Int ?? 0)", 9, right: true) + " " + pad("\(a["feedback"] as? Int ?? 0)", 9, right: true) + " "
                + pad("\(a["clicks"] as? Int ?? 0)", 7, right: true) + "  " + pad(ctr, 26) + " " + pad(loss, 8, right: true) + " "
                + pad((a["versions"] as? Int).map(String.init) ?? "-", 8, right: true) + "\n"
        }
        for d in r["differences"] as? [[String: Any]] ?? [] {
            out += "CTR \(d["arm"] as? String ?? "?") − \(d["baseline"] as? String ?? "?"): "
                + String(format: "%+.3f pp [%+.3f, %+.3f] (95%% interval)\n", (d["difference"] as? Double ?? 0) * 100, (d["low"] as? Double ?? 0) * 100, (d["high"] as? Double ?? 0) * 100)
        }
        let srm = r["srm_p_value"] as? Double ?? 1
        out += "SRM check: p = " + String(format: "%.4g", srm) + (srm < 0.001 ? " — sample ratio MISMATCH" : " — split as configured")
        return out
    }
}
