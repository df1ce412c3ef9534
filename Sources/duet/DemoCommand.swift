import ArgumentParser
import DuetAPI
import DuetIngest
import DuetServer
import Foundation

/// `duet demo`: the whole loop on real data in one command, on the embedded feature store.
///
/// Trains a static model from the bundled OBD sample, starts `duet serve` on a free port, replays the
/// sample's logged traffic through the real HTTP API (recommend → the logged click as feedback), prints
/// the per-arm report, then rolls the online model back one version through the admin API.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Train, serve, replay the OBD sample through the API, report, and roll back; then a simulated drifting world (--scenario obd|drift|both)."
    )

    @Option(help: "Logged traffic to replay (OBD CSV).") var log = "data/obd/random/men.csv"
    @Option(help: "Log used to train the static model (default: the bts log, so the replay is unseen data).")
    var train = "data/obd/bts/men.csv"
    @Option(help: "Experiment to route the traffic through.") var experiment = "homepage"
    @Option(help: "Replay at most this many rows (0 = all).") var limit = 0
    @Option(help: "Concurrent clients.") var concurrency = 4
    @Option(help: "Data directory (default: a fresh temporary one).") var dataDir: String?
    @Option(help: "Port (default: a free one).") var port: Int?
    @Flag(help: "Leave the server running at the end and print its URLs.") var keepRunning = false
    @Option(help: "obd (the logged Open Bandit sample), drift (a simulated world where online learning matters, docs/drift-world.md) or both.")
    var scenario = "both"
    @Option(help: "Rounds per phase of the drift scenario.") var rounds = 2500

    func validate() throws {
        guard ["obd", "drift", "both"].contains(scenario) else { throw ValidationError("--scenario: must be obd, drift or both, got '\(scenario)'") }
        guard rounds >= 100 else { throw ValidationError("--rounds: at least 100, got \(rounds)") }
    }

    func run() async throws {
        if scenario != "drift" { try await runOBD() }
        if scenario == "both" { say("") }
        if scenario != "obd" {
            let me = Bundle.main.executableURL?.path ?? URL(fileURLWithPath: CommandLine.arguments[0]).path
            try await DriftDemo(binary: me, concurrency: concurrency, keepRunning: keepRunning && scenario == "drift", rounds: rounds).run()
        }
    }

    func runOBD() async throws {
        let fm = FileManager.default
        let data = dataDir ?? fm.temporaryDirectory.appendingPathComponent("duet-demo-\(UUID().uuidString.prefix(8))").path
        let staticDir = data + "/models/static"
        try fm.createDirectory(atPath: staticDir, withIntermediateDirectories: true)
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).path
        let self_ = Bundle.main.executableURL?.path ?? me

        // 1. Static model from the training log.
        say("OBD: the logged Open Bandit sample (real data; the models do not choose the logged items)")
        say("1/5 training the static model on \(train)…")
        let model = staticDir + "/obd-static.duet"
        if !fm.fileExists(atPath: model) {
            let status = try Self.runChild(self_, ["train", train, "--format", "obd", "--out", model + ".tmp"])
            guard status == 0 else { throw CLIError("duet train failed (exit \(status))") }
            try fm.moveItem(atPath: model + ".tmp", toPath: model)
        }

        // 2. The server, on the embedded store.
        let port = self.port ?? LoopbackPort.free()
        let token = "demo-" + UUID().uuidString.prefix(8)
        let base = "http://127.0.0.1:\(port)"
        say("2/5 starting duet serve on \(base) (data in \(data))…")
        let (server, client) = try await Self.startServer(binary: self_, data: data, port: port, token: token)
        defer {
            if !(keepRunning && scenario == "obd") {
                if server.isRunning { server.terminate(); server.waitUntilExit() }
                // A temporary data directory holds model checkpoints (tens of MB): not left behind.
                if dataDir == nil { try? fm.removeItem(atPath: data) }
            }
        }

        // 3. Replay.
        let rows = try OBDLoggedRow.read(log, limit: limit)
        say("3/5 replaying \(rows.count) logged rounds through POST /v1/recommend and /v1/feedback…")
        let started = ContinuousClock.now
        let progress = Progress(total: rows.count)
        try await withThrowingTaskGroup(of: Void.self) { group in
            let chunk = (rows.count + concurrency - 1) / max(1, concurrency)
            for c in 0..<max(1, concurrency) {
                let slice = Array(rows[min(rows.count, c * chunk)..<min(rows.count, (c + 1) * chunk)])
                group.addTask {
                    for row in slice {
                        try await Self.replay(row, experiment: experiment, client: client)
                        progress.tick()
                    }
                }
            }
            try await group.waitForAll()
        }
        progress.finish()
        let seconds = Double((ContinuousClock.now - started).components.seconds) + Double((ContinuousClock.now - started).components.attoseconds) / 1e18
        say(String(format: "    %d rounds in %.1f s (%.0f requests/s)", rows.count, seconds, Double(rows.count * 2) / max(seconds, 1e-9)))
        try await Task.sleep(for: .milliseconds(600))  // let the learner publish its last version

        // 4. Report.
        say("4/5 results\n")
        let report = try await client.call("GET", "/v1/admin/experiments/\(experiment)/report", as: ExperimentReport.self)
        say(ExperimentRemote.formatReport(report))
        let online = try await client.call("GET", "/v1/admin/models/online", as: SlotInfo.self)
        say("online model: \(online.versions.count) versions kept in memory, current \(online.current ?? "-")")

        // 5. Rollback.
        say("\n5/5 rolling the online model back one version through the admin API…")
        let t0 = ContinuousClock.now
        let swap = try await client.call("POST", "/v1/admin/models/online/rollback", body: RollbackRequest(), as: SwapInfo.self)
        let rt = ModelCommand.ms(ContinuousClock.now - t0)
        say("online: \(swap.from) → \(swap.to) (swap \(String(format: "%.2f", swap.swapSeconds * 1e6)) µs in process, \(rt) round trip)")
        let after = try await client.call("POST", "/v1/recommend", body: RecommendRequest(experiment: experiment, user: "u0", k: 3), as: RecommendResponse.self)
        say("next recommendation served by \(after.model.slot)@\(after.model.version)")
        if keepRunning && scenario == "obd" {
            say("\nserver running (pid \(server.processIdentifier)); Ctrl-C to stop")
            say("  API:      \(base)/v1/recommend  (spec: \(base)/openapi.json)")
            say("  metrics:  \(base)/metrics")
            say("  status:   \(base)/")
            say("  admin:    --server \(base) --token \(token)")
            server.waitUntilExit()
        }
    }

    /// Unbuffered stdout lines, so they interleave correctly with the progress bar on stderr.
    func say(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }

    static func replay(_ row: OBDLoggedRow, experiment: String, client: AdminClient) async throws {
        let request = RecommendRequest(experiment: experiment, user: "u\(row.index)", candidates: [row.item], k: 1, context: ["position": .string(row.position)])
        let rec = try await client.call("POST", "/v1/recommend", body: request, as: RecommendResponse.self)
        _ = try await client.call("POST", "/v1/feedback", body: FeedbackRequest(requestID: rec.requestID, item: row.item, label: Double(row.click)), as: FeedbackResponse.self)
    }

    /// `duet serve` on `port` with `data`, its output in `data/server.log`, once ready.
    static func startServer(binary: String, data: String, port: Int, token: String, extra: [String] = []) async throws -> (Process, AdminClient) {
        let fm = FileManager.default
        let server = Process()
        server.executableURL = URL(fileURLWithPath: binary)
        server.arguments = ["serve", "--port", "\(port)", "--data-dir", data, "--admin-token", "demo:\(token)"] + extra
        let serverLog = FileHandle(forWritingAtPath: data + "/server.log") ?? {
            _ = fm.createFile(atPath: data + "/server.log", contents: nil)
            return FileHandle(forWritingAtPath: data + "/server.log")!
        }()
        server.standardOutput = serverLog
        server.standardError = serverLog
        try server.run()
        let client = AdminClient(base: URL(string: "http://127.0.0.1:\(port)")!, token: token)
        do {
            try await waitReady(client, server: server, log: data + "/server.log")
        } catch {
            if server.isRunning { server.terminate() }
            throw error
        }
        return (server, client)
    }

    static func waitReady(_ client: AdminClient, server: Process, log: String) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            guard server.isRunning else {
                throw CLIError("duet serve exited: " + ((try? String(contentsOfFile: log, encoding: .utf8)) ?? ""))
            }
            if let reply = try? await client.send("GET", "/readyz"), reply.status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw CLIError("duet serve was not ready within 30 s; see \(log)")
    }

    static func runChild(_ path: String, _ args: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// A one-line progress bar on stderr.
    final class Progress: @unchecked Sendable {
        let total: Int
        let lock = NSLock()
        var done = 0
        init(total: Int) { self.total = total }
        func tick() {
            lock.lock()
            done += 1
            let d = done
            lock.unlock()
            if d % 100 == 0 || d == total { draw(d) }
        }
        func draw(_ d: Int) {
            let width = 40, filled = total == 0 ? width : d * width / total
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            FileHandle.standardError.write(Data("\r    [\(bar)] \(d)/\(total)".utf8))
        }
        func finish() { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
