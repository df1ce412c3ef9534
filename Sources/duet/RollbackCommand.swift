import ArgumentParser
import Foundation

/// `duet rollback SLOT [--to VERSION]`: on-call's one command.
struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Make an earlier model version current in a running server (default: the previous one)."
    )

    @Argument(help: "Model slot, e.g. online or static.") var slot: String
    @Option(help: "Version id to roll back to.") var to: String?
    @OptionGroup var server: ServerOptions

    func run() async throws {
        let client = try server.client
        let started = ContinuousClock.now
        var body: [String: Any] = [:]
        if let to { body["to"] = to }
        let reply = try await client.call("POST", "/v1/admin/models/\(slot)/rollback", json: body) as? [String: Any] ?? [:]
        let roundTrip = ContinuousClock.now - started
        let from = reply["from"] as? String ?? "?", to = reply["to"] as? String ?? "?"
        let swap = (reply["swap_seconds"] as? Double ?? 0) * 1e6
        print("\(slot): \(from) → \(to) (swap \(String(format: "%.2f", swap)) µs in process, \(ModelCommand.ms(roundTrip)) round trip)")
    }
}

/// `duet model list [SLOT]`, `duet model promote SLOT VERSION`.
struct ModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Inspect and switch model versions in a running server.",
        subcommands: [List.self, Promote.self]
    )

    static func ms(_ d: Duration) -> String {
        let c = d.components
        return String(format: "%.2f ms", Double(c.seconds) * 1000 + Double(c.attoseconds) / 1e15)
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List slots and their kept versions.")
        @Argument(help: "Only this slot.") var slot: String?
        @Flag(help: "Print the server's JSON.") var json = false
        @OptionGroup var server: ServerOptions

        func run() async throws {
            let client = try server.client
            let path = slot.map { "/v1/admin/models/\($0)" } ?? "/v1/admin/models"
            let reply = try await client.call("GET", path)
            if json {
                let data = try JSONSerialization.data(withJSONObject: reply, options: [.prettyPrinted, .sortedKeys])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            let slots: [[String: Any]] = slot == nil ? ((reply as? [String: Any])?["slots"] as? [[String: Any]] ?? []) : [reply as? [String: Any] ?? [:]]
            for s in slots {
                print("\(s["slot"] as? String ?? "?")  current: \(s["current"] as? String ?? "-")")
                for v in s["versions"] as? [[String: Any]] ?? [] {
                    let mark = (v["current"] as? Bool ?? false) ? "*" : " "
                    let loss = (v["logloss"] as? Double).map { String(format: "%.5f", $0) } ?? "-"
                    let created = Date(timeIntervalSince1970: v["created_at"] as? Double ?? 0)
                    print("  \(mark) \(v["id"] as? String ?? "?")\tparent \(v["parent_id"] as? String ?? "-")\t\(v["examples"] as? Int ?? 0) examples\tlogloss \(loss)\t\(created)")
                }
            }
        }
    }

    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a kept version of a slot current.")
        @Argument var slot: String
        @Argument var version: String
        @OptionGroup var server: ServerOptions

        func run() async throws {
            let reply = try await server.client.call("POST", "/v1/admin/models/\(slot)/promote", json: ["version": version]) as? [String: Any] ?? [:]
            print("\(slot): \(reply["from"] as? String ?? "?") → \(reply["to"] as? String ?? "?")")
        }
    }
}

/// `duet audit [--since]`.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Show the audit log of a running server.")
    @Option(help: "Only rows newer than this: seconds since 1970, or a duration like 30m, 2h, 1d.") var since: String?
    @Option(help: "At most this many rows.") var limit = 50
    @Flag(help: "Print the server's JSON.") var json = false
    @OptionGroup var server: ServerOptions

    static func parseSince(_ text: String, now: Double = Date().timeIntervalSince1970) throws -> Double {
        if let v = Double(text) { return v }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        guard let unit = text.last.flatMap({ units[$0] }), let n = Double(text.dropLast()) else {
            throw CLIError("--since: '\(text)' is neither seconds since 1970 nor a duration like 30m")
        }
        return now - n * unit
    }

    func run() async throws {
        var path = "/v1/admin/audit?limit=\(limit)"
        if let since { path += "&since=\(try Self.parseSince(since))" }
        let reply = try await server.client.call("GET", path)
        if json {
            let data = try JSONSerialization.data(withJSONObject: reply, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        for e in (reply as? [String: Any])?["entries"] as? [[String: Any]] ?? [] {
            let at = Date(timeIntervalSince1970: e["at"] as? Double ?? 0)
            print("\(at)\t\(e["actor"] as? String ?? "?")\t\(e["action"] as? String ?? "?")\t\(e["target"] as? String ?? "?")\t\(e["before"] as? String ?? "-") → \(e["after"] as? String ?? "-")")
        }
    }
}
