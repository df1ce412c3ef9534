import DuetTestSupport
import Foundation
import Testing

/// Cluster mode on the real binary: Redis and 3 `duet serve` replicas on loopback, one trainer by
/// lease, feedback on the Redis Stream, versions published to every replica.
@Suite(.serialized) struct ClusterTests {
    static func config() throws -> String {
        let path = try TestSupport.temporaryDirectory("cluster-cfg").appendingPathComponent("duet.yaml").path
        try "publish_every: 50\npublish_interval_ms: 100\nlease_ms: 1000\nsnapshot_interval_ms: 10000\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func cluster(_ s: DuetServerProcess) async throws -> [String: Any] {
        try await ServerHarness.admin(s, "GET", "/v1/admin/cluster").1
    }

    static func onlineVersion(_ s: DuetServerProcess) async throws -> (id: String, examples: Int)? {
        let slot = try await ServerHarness.admin(s, "GET", "/v1/admin/models/online").1
        guard let current = slot["current"] as? String,
              let v = (slot["versions"] as? [[String: Any]] ?? []).first(where: { $0["id"] as? String == current })
        else { return nil }
        return (current, v["examples"] as? Int ?? -1)
    }

    /// Recommends on `s` and sends the label for the first item to `to` (another replica, maybe).
    static func feedback(_ s: DuetServerProcess, to: DuetServerProcess? = nil, user: String, label: Int) async throws -> Int {
        let r = try await ServerHarness.recommend(s, user: user, candidates: ["1", "2", "3"], k: 1)
        let item = ((r["items"] as? [[String: Any]])?.first?["id"] as? String) ?? "1"
        return try await (to ?? s).post("/v1/feedback", ["request_id": r["request_id"]!, "item": item, "label": label]).0
    }

    @Test func threeReplicasTrainOneModelAndSurviveTheTrainersDeath() async throws {
        let redis = try RedisServer.start()
        defer { redis.stop() }
        let config = try Self.config()
        var replicas: [DuetServerProcess] = []
        defer { for r in replicas { r.stop() } }
        for i in 0..<3 {
            replicas.append(try await ServerHarness.start(
                try ServerHarness.dataDirectory(), ["--config", config, "--redis", redis.url, "--cluster", "t", "--replica-id", "r\(i)"]))
        }
        // One trainer, three replicas, all on the trainer's version.
        var trainer = ""
        let formed = try await ServerHarness.eventually(10) {
            var holders: Set<String> = [], seen: [Int] = [], versions: Set<String> = []
            for r in replicas {
                let c = try await Self.cluster(r)
                holders.insert(c["trainer"] as? String ?? "")
                seen.append((c["replicas"] as? [Any])?.count ?? 0)
                versions.insert(c["version"] as? String ?? "?")
            }
            trainer = holders.first ?? ""
            return holders.count == 1 && !trainer.isEmpty && seen.allSatisfy { $0 == 3 } && versions.count == 1
        }
        let formedState = try await Self.cluster(replicas[0])
        #expect(formed, "no cluster formed: \(formedState)")
        let c0 = try await Self.cluster(replicas[0])
        #expect(c0["mode"] as? String == "cluster" && c0["self"] as? String == "r0")
        let start = try #require(try await Self.onlineVersion(replicas[0]))
        let trainerIndex = try #require(Int(trainer.dropFirst()))
        let scrape = String(decoding: try await replicas[trainerIndex].get("/metrics").1, as: UTF8.self)
        #expect(scrape.contains("duet_cluster_trainer 1") && scrape.contains("duet_cluster_replicas 3"), "\(scrape.split(separator: "\n").filter { $0.contains("cluster") })")
        let page = String(decoding: try await replicas[(trainerIndex + 1) % 3].get("/").1, as: UTF8.self)
        #expect(page.contains("cluster t, replica r\((trainerIndex + 1) % 3): trainer \(trainer)"))
        let shown = try ServerHarness.cli(replicas[1], ["cluster"])
        #expect(shown.status == 0 && shown.stdout.contains("cluster t: this replica r1, trainer \(trainer)"), "\(shown.stdout)\(shown.stderr)")

        // Feedback spread over all three (served by one replica, sent to another for a third of it)
        // trains one model; every replica serves its version.
        var acknowledged = 0
        for i in 0..<300 {
            let status = try await Self.feedback(replicas[i % 3], to: replicas[(i + i / 100) % 3], user: "u\(i)", label: i % 7 == 0 ? 1 : 0)
            #expect(status == 200)
            if status == 200 { acknowledged += 1 }
        }
        var converged: (id: String, examples: Int)?
        let same = try await ServerHarness.eventually(10) {
            var seen: [(id: String, examples: Int)] = []
            for r in replicas { if let v = try await Self.onlineVersion(r) { seen.append(v) } }
            converged = seen.first
            return seen.count == 3 && Set(seen.map(\.id)).count == 1 && seen[0].examples - start.examples == acknowledged
        }
        #expect(same, "replicas did not converge on one version with every event learned: \(converged.map { "\($0)" } ?? "none"), start \(start), acknowledged \(acknowledged)")
        #expect(converged.map { Int($0.id) ?? 0 } ?? 0 > Int(start.id) ?? 0)
        // The report on any replica covers the whole cluster: every request and feedback, and each
        // user once, however many replicas it reached.
        for r in replicas { _ = try await ServerHarness.recommend(r, user: "multi", candidates: ["1", "2", "3"], k: 1) }
        var totals = (requests: 0, feedback: 0, users: 0, scope: "")
        let whole = try await ServerHarness.eventually(5) {
            let report = try await ServerHarness.admin(replicas[2], "GET", "/v1/admin/experiments/homepage/report").1
            let arms = report["arms"] as? [[String: Any]] ?? []
            totals = (arms.map { $0["requests"] as? Int ?? 0 }.reduce(0, +), arms.map { $0["feedback"] as? Int ?? 0 }.reduce(0, +),
                      arms.map { $0["users"] as? Int ?? 0 }.reduce(0, +), report["scope"] as? String ?? "")
            return totals == (303, 300, 301, "cluster")
        }
        #expect(whole, "report on one replica: \(totals), expected 303 requests, 300 feedback, 301 users across the cluster")
        let listed = try ServerHarness.cli(replicas[0], ["experiment", "report", "homepage"])
        #expect(listed.stdout.contains("counted across every replica of the cluster"), "\(listed.stdout)")

        // A duplicate sent to another replica is refused there too.
        let r = try await ServerHarness.recommend(replicas[0], user: "dup", candidates: ["1", "2", "3"], k: 1)
        let item = ((r["items"] as? [[String: Any]])?.first?["id"] as? String) ?? "1"
        #expect(try await replicas[0].post("/v1/feedback", ["request_id": r["request_id"]!, "item": item, "label": 0]).0 == 200)
        acknowledged += 1
        try await Task.sleep(for: .milliseconds(50))
        #expect(try await replicas[1].post("/v1/feedback", ["request_id": r["request_id"]!, "item": item, "label": 0]).0 == 409)
        #expect(try await replicas[2].post("/v1/feedback", ["request_id": "nope", "item": item, "label": 0]).0 == 404)

        // The trainer dies: another replica takes the lease, resumes from the head and the stream.
        let dead = try #require(Int(trainer.dropFirst()))
        let killedAt = Date()
        kill(replicas[dead].process.processIdentifier, SIGKILL)
        replicas[dead].process.waitUntilExit()
        let survivors = replicas.indices.filter { $0 != dead }.map { replicas[$0] }
        var newTrainer = ""
        let tookOver = try await ServerHarness.eventually(8) {
            newTrainer = try await Self.cluster(survivors[0])["trainer"] as? String ?? ""
            return !newTrainer.isEmpty && newTrainer != trainer
        }
        let takeover = Date().timeIntervalSince(killedAt)
        #expect(tookOver && takeover < 5, "no new trainer within 5 s: \(takeover) s, trainer '\(newTrainer)'")
        for i in 0..<200 {
            let status = try await Self.feedback(survivors[i % 2], user: "w\(i)", label: i % 5 == 0 ? 1 : 0)
            #expect(status == 200)
            if status == 200 { acknowledged += 1 }
        }
        let learnedAll = try await ServerHarness.eventually(10) {
            var seen: [(id: String, examples: Int)] = []
            for r in survivors { if let v = try await Self.onlineVersion(r) { seen.append(v) } }
            converged = seen.first
            return seen.count == 2 && Set(seen.map(\.id)).count == 1 && seen[0].examples - start.examples == acknowledged
        }
        #expect(learnedAll, "after the failover: \(converged.map { "\($0)" } ?? "none"), start \(start), acknowledged \(acknowledged) (0 lost, 0 doubled expected)")
        // The follower read the full snapshot at most once, at start: every later snapshot (each 10 s,
        // and the new trainer's first) carried a delta from the version it served.
        for s in survivors {
            let info = try await Self.cluster(s)
            guard info["self"] as? String != newTrainer else { continue }
            #expect((info["resyncs"] as? Int ?? 99) <= 1, "follower \(info["self"] ?? "?") resynced from the snapshot \(info["resyncs"] ?? "?") times")
        }

        // An experiment applied on one replica is served by the others within 1 s, with the same audit.
        let (a, b) = (survivors[0], survivors[1])
        func revision(_ s: DuetServerProcess) async throws -> Int {
            try await ServerHarness.admin(s, "GET", "/v1/admin/experiments/homepage").1["revision"] as? Int ?? -1
        }
        let before = try await revision(b)
        let path = try TestSupport.temporaryDirectory("cluster-exp").appendingPathComponent("homepage.yaml").path
        try "key: homepage\narms:\n  - {name: static, weight: 0.3, model: static}\n  - {name: online, weight: 0.7, model: online}\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let applied = try ServerHarness.cli(a, ["experiment", "apply", path])
        #expect(applied.status == 0, "\(applied.stderr)")
        let spread = try await ServerHarness.eventually(1) {
            let rb = try await revision(b), ra = try await revision(a)
            return rb == before + 1 && ra == before + 1
        }
        let (ra, rb) = (try await revision(a), try await revision(b))
        #expect(spread, "revision on b: \(rb), a: \(ra), before \(before)")
        #expect(try ServerHarness.cli(b, ["audit"]).stdout.contains("experiment.apply"))
        // A refused config changes nothing anywhere.
        try "key: homepage\narms:\n  - {name: static, weight: 2, model: static}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try ServerHarness.cli(a, ["experiment", "apply", path]).status != 0)
        try await Task.sleep(for: .milliseconds(300))
        let unchanged = try await revision(b)
        #expect(unchanged == before + 1)

        // A rollback on one replica reaches every replica within 1 s.
        let slot = try await ServerHarness.admin(b, "GET", "/v1/admin/models/online").1
        let ids = (slot["versions"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        let target = try #require(ids.dropFirst().first)
        let rolled = try ServerHarness.cli(b, ["rollback", "online", "--to", target])
        #expect(rolled.status == 0, "\(rolled.stdout)\(rolled.stderr)")
        let everywhere = try await ServerHarness.eventually(1) {
            let va = try await Self.onlineVersion(a), vb = try await Self.onlineVersion(b)
            return va?.id == target && vb?.id == target
        }
        let (va, vb) = (try await Self.onlineVersion(a), try await Self.onlineVersion(b))
        let infoA = try await Self.cluster(a)
        let slotA = try await ServerHarness.admin(a, "GET", "/v1/admin/models/online").1
        let idsA = (slotA["versions"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        let logs = ["a: \(infoA) versions \(idsA)"] + [a, b].map { s in s.log.split(separator: "\n").filter { $0.contains("cluster") || $0.contains("rolled") }.suffix(12).joined(separator: "\n") }
        #expect(everywhere, "after a rollback to \(target) on b: a serves \(String(describing: va)), b \(String(describing: vb))\n\(logs.joined(separator: "\n---\n"))")
        // A promote on the other goes forward again, everywhere.
        let newest = try #require(ids.first)
        let promoted = try ServerHarness.cli(a, ["model", "promote", "online", newest])
        #expect(promoted.status == 0, "\(promoted.stdout)\(promoted.stderr)")
        let forward = try await ServerHarness.eventually(1) {
            let va = try await Self.onlineVersion(a), vb = try await Self.onlineVersion(b)
            return va?.id == newest && vb?.id == newest
        }
        #expect(forward, "after a promote to \(newest) on a")
        #expect(try ServerHarness.cli(b, ["audit"]).stdout.contains("model.promote"))
    }

    @Test func redisDownKeepsServingRefusesFeedbackClearlyAndResumesAfterARestartWithoutData() async throws {
        let redis = try RedisServer.start()
        defer { redis.stop() }
        let config = try Self.config()
        var replicas: [DuetServerProcess] = []
        defer { for r in replicas { r.stop() } }
        for i in 0..<2 {
            replicas.append(try await ServerHarness.start(
                try ServerHarness.dataDirectory(), ["--config", config, "--redis", redis.url, "--cluster", "f", "--replica-id", "f\(i)"]))
        }
        let formed = try await ServerHarness.eventually(10) {
            let c = try await Self.cluster(replicas[1])
            return c["trainer"] as? String != nil && (c["replicas"] as? [Any])?.count == 2
        }
        #expect(formed)
        var acknowledged = 0
        for i in 0..<60 where try await Self.feedback(replicas[i % 2], user: "p\(i)", label: i % 6 == 0 ? 1 : 0) == 200 { acknowledged += 1 }
        #expect(acknowledged == 60)
        var before: (id: String, examples: Int)?
        let settled = try await ServerHarness.eventually(10) {
            let a = try await Self.onlineVersion(replicas[0]), b = try await Self.onlineVersion(replicas[1])
            before = a
            return a != nil && a?.id == b?.id && a?.examples == b?.examples
        }
        #expect(settled)

        // Redis dies: serving goes on from the versions each replica has; feedback is a clear 503.
        redis.kill()
        let served = try await ServerHarness.recommend(replicas[0], user: "down-1", candidates: ["1", "2", "3"], k: 1)
        #expect(served["request_id"] != nil)
        let (status, body) = try await replicas[1].post("/v1/feedback", ["request_id": "nope", "item": "1", "label": 1])
        #expect(status == 404 || status == 503, "\(status) \(body)")
        let r = try await ServerHarness.recommend(replicas[1], user: "down-2", candidates: ["1", "2", "3"], k: 1)
        let item = ((r["items"] as? [[String: Any]])?.first?["id"] as? String) ?? "1"
        let (refused, error) = try await replicas[1].post("/v1/feedback", ["request_id": r["request_id"]!, "item": item, "label": 1])
        #expect(refused == 503 && (error["error"] as? [String: Any])?["code"] as? String == "feedback_log_unavailable", "\(refused) \(error)")
        let noticed = try await ServerHarness.eventually(5) { try await Self.cluster(replicas[0])["redis_error"] as? String != nil }
        #expect(noticed)
        // The refused event was not taken: it can be sent again once Redis is back.
        try redis.launch()
        let resumed = try await ServerHarness.eventually(15) {
            try await replicas[1].post("/v1/feedback", ["request_id": r["request_id"]!, "item": item, "label": 1]).0 == 200
        }
        #expect(resumed, "feedback did not resume after Redis came back")
        var after = 1
        for i in 0..<30 where try await Self.feedback(replicas[i % 2], user: "q\(i)", label: 0) == 200 { after += 1 }
        // Redis came back empty: the trainer published its model again as a snapshot and learned on.
        var final: (id: String, examples: Int)?
        let converged = try await ServerHarness.eventually(10) {
            let a = try await Self.onlineVersion(replicas[0]), b = try await Self.onlineVersion(replicas[1])
            final = a
            return a != nil && a?.id == b?.id && a?.examples == (before?.examples ?? 0) + after
        }
        #expect(converged, "after Redis returned: \(String(describing: final)), before \(String(describing: before)), acknowledged since \(after)")
        // The lease was taken again once Redis was back (it lost the key with everything else).
        let taken = replicas.map { $0.log.components(separatedBy: "took the trainer lease").count - 1 }.reduce(0, +)
        #expect(taken >= 2, "lease taken \(taken) times")
    }
}

