import DuetAPI
import DuetModels
import DuetServer
import Foundation

/// `duet demo --scenario drift`: a simulated world in which online learning matters, served through
/// the real HTTP API. It is simulated, not real data; its generative model is written down in
/// docs/drift-world.md and here:
///
/// - users belong to one of 4 taste segments (sent as the request context `segment`); every round
///   is a new user, so users and requests coincide;
/// - phase 1: items d0…d7; a user of segment s clicks an item i with probability 25% when
///   i mod 4 = s, else 2%;
/// - phase 2 (the drift, halfway): tastes rotate, segment s now prefers i mod 4 = (s + 1) mod 4
///   (25%, else 2%), and 2 new items d8, d9 arrive, d(8 + s mod 2) clicked at 30% by segment s;
/// - then a bot clicks every recommendation it gets, 300 times, and honest traffic resumes.
///
/// Each round asks for one item among all current items (k = 1), so the models choose; the label
/// is drawn from the world's click probability with a generator seeded by the round, so a run is
/// reproducible given the choices. The static model is trained with `duet train` (segment × item_id
/// crossed) on 20,000 rounds of phase 1 logged by a uniformly random policy; the experiment's online arm explores (ε = 0.2)
/// and has a guardrail.
struct DriftDemo {
    let binary: String
    let concurrency: Int
    let keepRunning: Bool
    /// Rounds per phase.
    let rounds: Int
    let botClicks = 1000, afterBot = 800

    enum Phase: Sendable { case first, drifted }

    static let segments = 4

    static func items(_ phase: Phase) -> [String] { (0..<(phase == .first ? 8 : 10)).map { "d\($0)" } }

    /// The world's click probability for a user of `segment` shown item index `item`.
    static func clickRate(segment: Int, item: Int, phase: Phase) -> Double {
        switch phase {
        case .first: return item % 4 == segment ? 0.25 : 0.02
        case .drifted:
            if item >= 8 { return item - 8 == segment % 2 ? 0.30 : 0.02 }
            return item % 4 == (segment + 1) % 4 ? 0.25 : 0.02
        }
    }

    static let experiment = """
    # duet demo --scenario drift: the static model against the online learner, which explores.
    key: drift
    arms:
      - {name: static, weight: 0.5, model: static}
      - {name: online, weight: 0.5, model: online, explore: {policy: epsilon, epsilon: 0.2}}
    guardrails: {max_logloss_ratio: 1.1, min_examples: 200, window: 500}
    """

    func say(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }

    func run() async throws {
        let fm = FileManager.default
        let data = fm.temporaryDirectory.appendingPathComponent("duet-drift-\(UUID().uuidString.prefix(8))").path
        try fm.createDirectory(atPath: data + "/models/static", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: data + "/experiments", withIntermediateDirectories: true)
        try Self.experiment.write(toFile: data + "/experiments/drift.yaml", atomically: true, encoding: .utf8)
        say("DRIFT: a simulated world (not real data; docs/drift-world.md): 4 taste segments, 8 items, tastes rotate halfway and 2 items arrive")

        // 1. The static model, from a uniformly logged phase-1 log.
        say("1/5 training the static model on 20,000 simulated phase-1 rounds logged by a uniform policy…")
        let log = data + "/phase1.jsonl"
        var lines = ""
        var rng = SplitMix64(seed: 2026)
        for _ in 0..<20_000 {
            let s = Int(rng.next() % UInt64(Self.segments)), i = Int(rng.next() % 8)
            let click = Double.random(in: 0..<1, using: &rng) < Self.clickRate(segment: s, item: i, phase: .first)
            lines += #"{"features": {"segment": "s\#(s)", "item_id": "d\#(i)"}, "label": \#(click ? 1 : 0)}"# + "\n"
        }
        try lines.write(toFile: log, atomically: true, encoding: .utf8)
        let status = try DemoCommand.runChild(binary, ["train", log, "--format", "jsonl", "--interactions", "segment:item_id", "--out", data + "/drift-static.duet"])
        guard status == 0 else { throw CLIError("duet train failed (exit \(status))") }
        try fm.moveItem(atPath: data + "/drift-static.duet", toPath: data + "/models/static/drift-static.duet")

        // 2. The server.
        let port = LoopbackPort.free()
        let token = "demo-" + UUID().uuidString.prefix(8)
        say("2/5 starting duet serve on http://127.0.0.1:\(port) (data in \(data))…")
        let (server, client) = try await DemoCommand.startServer(
            binary: binary, data: data, port: port, token: token, extra: ["--experiments", data + "/experiments"])
        defer {
            if !keepRunning {
                if server.isRunning { server.terminate(); server.waitUntilExit() }
                try? fm.removeItem(atPath: data)  // model checkpoints, tens of MB: not left behind
            }
        }

        // 3. Phase 1.
        say("3/5 \(rounds) rounds of phase 1 through POST /v1/recommend and /v1/feedback…")
        try await tally(try await play(client, from: 0, count: rounds, phase: .first), "phase 1")
        say(try await report(client))
        let quiet = try await guardrailRollbacks(client)
        say("guardrail so far: \(quiet.isEmpty ? "quiet (no rollback)" : quiet.joined(separator: "; "))")

        // 4. Bot clicks, then honest traffic.
        say("\n4/5 a bot clicks all \(botClicks) recommendations it gets, then \(afterBot) honest phase-1 rounds…")
        let before = try await meanPrediction(client)
        for b in 0..<botClicks {
            let rec = try await client.call("POST", "/v1/recommend", body: RecommendRequest(
                experiment: "drift", user: "bot-\(b)", candidates: Self.items(.first), k: 1, context: ["segment": .string("s\(b % Self.segments)")]),
                as: RecommendResponse.self)
            _ = try await client.call("POST", "/v1/feedback", body: FeedbackRequest(requestID: rec.requestID, item: rec.items[0].id, label: 1), as: FeedbackResponse.self)
        }
        let poisoned = try await meanPrediction(client)
        try await tally(try await play(client, from: rounds, count: afterBot, phase: .first), "after the bot")
        try await Task.sleep(for: .milliseconds(400))
        let restored = try await meanPrediction(client)
        let fired = try await guardrailRollbacks(client)
        say("guardrail: " + (fired.isEmpty ? "did not fire" : fired.joined(separator: "; ")))
        say(String(format: "online model's mean predicted click rate (segment s0, all items): %.4f before the bot, %.4f after its clicks, %.4f after the guardrail (%.2f× the pre-bot level)",
                   before, poisoned, restored, restored / max(before, 1e-9)))

        // 5. The drift, under a new revision of the experiment (its counts start at 0: the report
        // then covers the drift alone, without the bot's clicks).
        say("\n5/5 tastes rotate and 2 new items arrive: revision 2 of the experiment (same arms, counts from 0), \(rounds) more rounds…")
        let applied = try await client.send(
            "PUT", "/v1/admin/experiments/drift", body: Data((Self.experiment + "\n# revision 2: the drift phase\n").utf8), contentType: "application/yaml")
        try AdminClient.check(applied, method: "PUT", path: "/v1/admin/experiments/drift")
        try await tally(try await play(client, from: rounds + afterBot, count: rounds, phase: .drifted), "after the drift")
        say("\nresults of revision 2 (the drift phase only)\n")
        say(try await report(client))
        let all = try await guardrailRollbacks(client)
        say("guardrail rollbacks in all: \(all.count)")
        if keepRunning {
            say("\nserver running (pid \(server.processIdentifier)); Ctrl-C to stop")
            say("  status:   http://127.0.0.1:\(port)/   admin: --server http://127.0.0.1:\(port) --token \(token)")
            server.waitUntilExit()
        }
    }

    /// Rounds and clicks per arm, as the demo itself counted the simulated clicks.
    typealias Tally = [String: (rounds: Int, clicks: Int)]

    /// `count` honest rounds from round `first`.
    func play(_ client: AdminClient, from first: Int, count: Int, phase: Phase) async throws -> Tally {
        let progress = DemoCommand.Progress(total: count)
        let workers = max(1, concurrency)
        let tally = try await withThrowingTaskGroup(of: Tally.self) { group in
            for w in 0..<workers {
                group.addTask {
                    var t: Tally = [:]
                    for n in stride(from: first + w, to: first + count, by: workers) {
                        var rng = SplitMix64(seed: UInt64(n) &* 0x9E37_79B9)
                        let segment = Int(rng.next() % UInt64(Self.segments))
                        let rec = try await client.call("POST", "/v1/recommend", body: RecommendRequest(
                            experiment: "drift", user: "u-\(n)", candidates: Self.items(phase), k: 1, context: ["segment": .string("s\(segment)")]),
                            as: RecommendResponse.self)
                        let item = rec.items[0].id
                        let rate = Self.clickRate(segment: segment, item: Int(item.dropFirst())!, phase: phase)
                        let click = Double.random(in: 0..<1, using: &rng) < rate
                        t[rec.arm, default: (0, 0)].rounds += 1
                        if click { t[rec.arm, default: (0, 0)].clicks += 1 }
                        _ = try await client.call("POST", "/v1/feedback", body: FeedbackRequest(requestID: rec.requestID, item: item, label: click ? 1 : 0), as: FeedbackResponse.self)
                        progress.tick()
                    }
                    return t
                }
            }
            var all: Tally = [:]
            for try await t in group { all.merge(t) { ($0.rounds + $1.rounds, $0.clicks + $1.clicks) } }
            return all
        }
        progress.finish()
        return tally
    }

    /// Prints one phase's click rate per arm (the demo's own count; fixed-sample 95% Wilson intervals).
    func tally(_ t: Tally, _ name: String) async throws {
        let parts = t.keys.sorted().map { arm -> String in
            let (n, c) = t[arm]!
            let ci = ExperimentStatistics.wilsonInterval(successes: c, trials: n)
            return String(format: "\(arm) %.2f%% [%.2f, %.2f] (%d of %d)", 100 * Double(c) / Double(max(1, n)), 100 * ci.low, 100 * ci.high, c, n)
        }
        say("    \(name), this phase only (the demo's own count of the simulated clicks): " + parts.joined(separator: ", "))
    }

    func report(_ client: AdminClient) async throws -> String {
        ExperimentRemote.formatReport(try await client.call("GET", "/v1/admin/experiments/drift/report", as: ExperimentReport.self))
    }

    /// The guardrail's rollbacks, from the audit trail.
    func guardrailRollbacks(_ client: AdminClient) async throws -> [String] {
        let audit = try await client.call("GET", "/v1/admin/audit?limit=50", as: AuditList.self)
        return audit.entries.filter { $0.action == "model.guardrail_rollback" }.map { "rolled the online model back \($0.before ?? "?") → \($0.after ?? "?")" }
    }

    /// The online model's mean score over the current items for a segment-0 user (a forced probe
    /// would need a config change; the online arm's score is read from its slot's current version
    /// through a request by a user the router sends to the online arm).
    func meanPrediction(_ client: AdminClient) async throws -> Double {
        for n in 0..<200 {
            let rec = try await client.call("POST", "/v1/recommend", body: RecommendRequest(
                experiment: "drift", user: "probe-\(n)", candidates: Self.items(.drifted), k: 10, context: ["segment": .string("s0")]), as: RecommendResponse.self)
            if rec.arm == "online" { return rec.items.map(\.score).reduce(0, +) / Double(rec.items.count) }
        }
        throw CLIError("no probe user reached the online arm")
    }
}
