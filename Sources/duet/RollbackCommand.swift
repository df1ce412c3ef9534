import ArgumentParser
import DuetAPI
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
        let reply = try await client.call("POST", "/v1/admin/models/\(slot)/rollback", body: RollbackRequest(to: to), as: SwapInfo.self)
        let roundTrip = ContinuousClock.now - started
        print("\(slot): \(reply.from) → \(reply.to) (swap \(String(format: "%.2f", reply.swapSeconds * 1e6)) µs in process, \(ModelCommand.ms(roundTrip)) round trip)")
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
            let slots: [SlotInfo]
            if slot == nil {
                let reply = try await client.call("GET", path, as: SlotList.self)
                if json { return try ExperimentRemote.printJSON(reply) }
                slots = reply.slots
            } else {
                let reply = try await client.call("GET", path, as: SlotInfo.self)
                if json { return try ExperimentRemote.printJSON(reply) }
                slots = [reply]
            }
            for s in slots {
                print("\(s.slot)  current: \(s.current ?? "-")")
                for v in s.versions {
                    let loss = v.logloss.map { String(format: "%.5f", $0) } ?? "-"
                    print("  \(v.current ? "*" : " ") \(v.id)\tparent \(v.parentID ?? "-")\t\(v.examples) examples\tlogloss \(loss)\t\(Date(timeIntervalSince1970: v.createdAt))")
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
            let reply = try await server.client.call("POST", "/v1/admin/models/\(slot)/promote", body: PromoteRequest(version: version), as: SwapInfo.self)
            print("\(slot): \(reply.from) → \(reply.to)")
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
        let reply = try await server.client.call("GET", path, as: AuditList.self)
        if json { return try ExperimentRemote.printJSON(reply) }
        for e in reply.entries {
            print("\(Date(timeIntervalSince1970: e.at))\t\(e.actor)\t\(e.action)\t\(e.target)\t\(e.before ?? "-") → \(e.after ?? "-")")
        }
    }
}
