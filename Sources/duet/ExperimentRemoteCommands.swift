import ArgumentParser
import DuetAPI
import Foundation

/// The `duet experiment` verbs that talk to a running server (apply, list, history, diff, revert, report).
enum ExperimentRemote {
    /// Prints a server answer as JSON (pretty, keys sorted), as the `--json` flags promise.
    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
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
            let batch = ExperimentBatch(configs: try files.map { .init(file: $0, yaml: try ExperimentRemote.readFile($0)) })
            let client = try server.client
            let reply = try await client.send("PUT", "/v1/admin/experiments", body: try JSONEncoder().encode(batch))
            if reply.status == 422, let error = AdminClient.error(reply) {
                for line in error.details ?? [error.message] {
                    FileHandle.standardError.write(Data((line + "\n").utf8))
                }
                throw ExitCode(1)
            }
            try AdminClient.check(reply, method: "PUT", path: "/v1/admin/experiments")
            for a in try AdminClient.decode(AppliedRevisions.self, reply, method: "PUT", path: "/v1/admin/experiments").applied {
                print("applied \(a.key) revision \(a.revision)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Live experiments: revision, split, SRM.")
        @Flag(help: "Print the server's JSON.") var json = false
        @OptionGroup var server: ServerOptions

        func run() async throws {
            let reply = try await server.client.call("GET", "/v1/admin/experiments", as: ExperimentList.self)
            if json { return try ExperimentRemote.printJSON(reply) }
            for e in reply.experiments {
                print("\(e.key)\trevision \(e.revision)\t\(e.status)\tSRM p=\(String(format: "%.4g", e.srmPValue))\(e.srmPValue < 0.001 ? "  MISMATCH" : "")")
                let total = max(1, e.arms.reduce(0) { $0 + $1.assigned })
                for a in e.arms {
                    print(String(format: "  %@\t%@\tconfigured %.1f%%\tobserved %.1f%% (%d users)",
                                 a.name, a.model, a.weight * 100, Double(a.assigned) / Double(total) * 100, a.assigned))
                }
                if let x = e.excluded, x.forced + x.outside > 0 {
                    print("  not counted: \(x.forced) requests of forced users, \(x.outside) of users outside the experiment")
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
            let reply = try await server.client.call("GET", "/v1/admin/experiments/\(key)/history", as: RevisionList.self)
            if json { return try ExperimentRemote.printJSON(reply) }
            for r in reply.revisions {
                let revert = r.revertedFrom.map { "  (revert to \($0))" } ?? ""
                print("revision \(r.revision)\t\(Date(timeIntervalSince1970: r.createdAt))\tby \(r.author)\(revert)")
            }
        }
    }

    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "diff", abstract: "Show how a config file differs from the live revision.",
            discussion: "Exit status as diff(1): 0 when they are the same, 1 when they differ, 2 or more on an error.")
        @Argument var file: String
        @OptionGroup var server: ServerOptions

        func run() async throws {
            do {
                try await compare()
            } catch let code as ExitCode {
                throw code
            } catch {
                // diff(1)'s convention: trouble is 2, so a script can tell it from "they differ".
                FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
                throw ExitCode(2)
            }
        }

        private func compare() async throws {
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
                live = try AdminClient.decode(ExperimentState.self, reply, method: "GET", path: "/v1/admin/experiments/\(key)").yaml
            }
            let lines = ExperimentRemote.lineDiff(old: live, new: local)
            if lines.isEmpty { print("\(key): no change from the live revision") } else {
                print("--- live \(key)\n+++ \(file)")
                lines.forEach { print($0) }
                throw ExitCode(1)
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
            let reply = try await server.client.call("POST", "/v1/admin/experiments/\(key)/revert", body: RevertRequest(to: to), as: AppliedRevisions.self)
            for a in reply.applied {
                print("reverted \(a.key): now revision \(a.revision)")
            }
        }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "report", abstract: "Per-arm results of a live experiment.")
        @Argument var key: String
        @Flag(help: "Print the server's JSON.") var json = false
        @OptionGroup var server: ServerOptions

        func run() async throws {
            let reply = try await server.client.call("GET", "/v1/admin/experiments/\(key)/report", as: ExperimentReport.self)
            if json { return try ExperimentRemote.printJSON(reply) }
            print(ExperimentRemote.formatReport(reply))
        }
    }

    /// The per-arm table shared by `duet experiment report` and `duet demo`.
    static func formatReport(_ r: ExperimentReport) -> String {
        func pad(_ s: String, _ n: Int, right: Bool = false) -> String {
            s.count >= n ? s : (right ? String(repeating: " ", count: n - s.count) + s : s + String(repeating: " ", count: n - s.count))
        }
        var out = "experiment \(r.experiment) (revision \(r.revision))"
        switch r.scope {
        case "cluster": out += ", counted across every replica of the cluster\n"
        case "replica": out += ", THIS REPLICA ONLY: Redis did not answer, so the other replicas' counts are missing\n"
        default: out += "\n"
        }
        out += pad("arm", 10) + " " + pad("model", 12) + " " + pad("requests", 9, right: true) + " " + pad("feedback", 9, right: true) + " "
            + pad("clicks", 7, right: true) + "  " + pad("CTR [95% CI]", 26) + " " + pad("logloss", 8, right: true) + " " + pad("versions", 8, right: true) + "\n"
        for a in r.arms {
            let ctr = String(format: "%.3f%% [%.3f, %.3f]", a.ctr * 100, a.ctrLow * 100, a.ctrHigh * 100)
            let loss = a.logloss.map { String(format: "%.5f", $0) } ?? "-"
            out += pad(a.arm, 10) + " " + pad(a.model, 12) + " "
                + pad("\(a.requests)", 9, right: true) + " " + pad("\(a.feedback)", 9, right: true) + " "
                + pad("\(a.clicks)", 7, right: true) + "  " + pad(ctr, 26) + " " + pad(loss, 8, right: true) + " "
                + pad(a.versions.map(String.init) ?? "-", 8, right: true) + "\n"
        }
        let noChoice = (r.comparisons ?? []).allSatisfy { $0.userCTR == nil }
        for d in r.differences {
            out += "CTR per feedback event \(d.arm) − \(d.baseline): "
                + String(format: "%+.3f pp [%+.3f, %+.3f] (95%% interval for one look, not always valid)", d.difference * 100, d.low * 100, d.high * 100)
                + (noChoice ? " — no model chose among candidates here: this says which users were routed where, not which model is better\n" : "\n")
        }
        for c in r.comparisons ?? [] {
            if let p = c.pairedLogloss {
                let verdict = !p.significant ? "not significant" : (p.value < 0 ? "\(c.arm)'s model predicts better (significant)" : "\(c.baseline)'s model predicts better (significant)")
                out += "paired log loss \(c.arm) − \(c.baseline) (both models score every feedback event): "
                    + String(format: "%+.5f [%+.5f, %+.5f]", p.value, p.ci[0], p.ci[1]) + " over \(p.count) events, always-valid 95% — \(verdict)\n"
            }
            if let u = c.userCTR {
                let d = u.difference
                let verdict = !d.significant ? "not significant" : (d.value > 0 ? "\(c.arm) is better (significant)" : "\(c.baseline) is better (significant)")
                out += "CTR on users (each user's first feedback on a recommendation the model chose) "
                    + String(format: "\(c.arm) %.3f%% (%d users) − \(c.baseline) %.3f%% (%d users) = %+.3f pp [%+.3f, %+.3f]",
                             u.arm * 100, u.armUsers, u.baseline * 100, u.baselineUsers, d.value * 100, d.ci[0] * 100, d.ci[1] * 100)
                    + ", always-valid 95% — \(verdict)\n"
            } else {
                out += "CTR on users \(c.arm) vs \(c.baseline): no comparison yet — it needs users in both arms with feedback on a recommendation the model chose (more candidates than items shown)\n"
            }
        }
        for a in r.arms {
            guard let estimates = a.policyEstimates, !estimates.isEmpty else { continue }
            out += "policy value (click rate of the first item) estimated from \(a.arm)'s traffic (\(a.explore ?? "exploring"), its logged propensities):\n"
            func show(_ name: String, _ i: ExperimentReport.Interval?) -> String {
                guard let i else { return "\(name) -" }
                guard let ci = i.ci, ci.count == 2 else { return String(format: "\(name) %.4f [no interval: every term equal]", i.value) }
                return String(format: "\(name) %.4f [%.4f, %.4f]", i.value, ci[0], ci[1])
            }
            for e in estimates {
                out += "  " + pad(e.target, 10) + " " + [show("IPS", e.ips), show("SNIPS", e.snips), show("DR", e.dr)].joined(separator: "  ")
                    + "  (\(e.events) events, 95% intervals)\n"
            }
        }
        if let x = r.excluded, x.forced + x.outside > 0 {
            out += "not counted for any arm: \(x.forced) requests of forced users, \(x.outside) of users outside the experiment\n"
        }
        let users = r.arms.map { "\($0.arm) \($0.users ?? 0)" }.joined(separator: ", ")
        out += "SRM check on distinct users (\(users)): p = " + String(format: "%.4g", r.srmPValue) + (r.srmPValue < 0.001 ? " — sample ratio MISMATCH" : " — split as configured")
        return out
    }
}
