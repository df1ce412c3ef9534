import DuetTestSupport
import Foundation
import Testing

/// The real `duet serve` on loopback with the embedded feature store.
@Suite(.serialized) struct ServingTests {
    @Test func recommendFeedbackLearnsAndRollbackRestoresWhileTrafficFlows() async throws {
        let s = try await ServerHarness.start(try ServerHarness.dataDirectory())
        defer { s.stop() }
        let (ready, _) = try await s.get("/readyz")
        #expect(ready == 200)
        // qa-online is forced into the online arm.
        let first = try await ServerHarness.recommend(s, user: "qa-online")
        #expect(first["arm"] as? String == "online")
        #expect((first["items"] as? [[String: Any]])?.count == 3)
        #expect((first["feature_version"] as? String)?.contains("user_profile@") == true)
        let v0 = ServerHarness.modelVersion(first)
        let item = ((first["items"] as! [[String: Any]])[0]["id"] as! String)
        let (fs, fj) = try await s.post("/v1/feedback", ["request_id": first["request_id"]!, "item": item, "label": 1])
        #expect(fs == 200, "\(fj)")
        // Within 1 s a new online version serves.
        var v1 = v0
        let learned = try await ServerHarness.eventually(1.0) {
            v1 = ServerHarness.modelVersion(try await ServerHarness.recommend(s, user: "qa-online"))
            return v1 != v0
        }
        #expect(learned, "no new online version within 1 s (still \(v0))")

        // A client loops while the CLI rolls back: no request may fail.
        let looping = Task { () -> Int in
            var failures = 0
            for i in 0..<300 {
                let (status, _) = try await s.post("/v1/recommend", ["experiment": "homepage", "user": "u\(i)", "candidates": ["1", "2"], "k": 1])
                if status != 200 { failures += 1 }
            }
            return failures
        }
        let r = try ServerHarness.cli(s, ["rollback", "online"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("online: \(v1) → \(v0)"), "\(r.stdout)")
        #expect(try await looping.value == 0)
        let after = try await ServerHarness.recommend(s, user: "qa-online")
        #expect(ServerHarness.modelVersion(after) == v0)
        let list = try ServerHarness.cli(s, ["model", "list", "online"])
        #expect(list.stdout.contains("current: \(v0)"))
    }

    @Test func badRequestsAreClear4xxAndChangeNothing() async throws {
        let s = try await ServerHarness.start(try ServerHarness.dataDirectory())
        defer { s.stop() }
        let before = try await ServerHarness.admin(s, "GET", "/v1/admin/models/online").1["current"] as? String
        func post(_ path: String, _ raw: String) async throws -> (Int, [String: Any]) {
            let (st, d) = try await s.send("POST", path, body: Data(raw.utf8))
            return (st, (try? JSONSerialization.jsonObject(with: d)) as? [String: Any] ?? [:])
        }
        func field(_ j: [String: Any]) -> String? { (j["error"] as? [String: Any])?["field"] as? String }
        func code(_ j: [String: Any]) -> String? { (j["error"] as? [String: Any])?["code"] as? String }
        var (st, j) = try await post("/v1/recommend", "{not json")
        #expect(st == 400 && code(j) == "malformed_json")
        (st, j) = try await post("/v1/recommend", #"{"experiment": "homepage"}"#)
        #expect(st == 400 && field(j) == "user")
        (st, j) = try await post("/v1/recommend", #"{"experiment": "homepage", "user": 7}"#)
        #expect(st == 400 && field(j) == "user")
        (st, j) = try await post("/v1/recommend", #"{"experiment": "nope", "user": "u"}"#)
        #expect(st == 404 && field(j) == "experiment")
        (st, j) = try await post("/v1/recommend", #"{"experiment": "homepage", "user": "u", "candidates": []}"#)
        #expect(st == 400 && field(j) == "candidates")
        let many = (0..<1001).map { "\"\($0)\"" }.joined(separator: ",")
        (st, j) = try await post("/v1/recommend", #"{"experiment": "homepage", "user": "u", "candidates": [\#(many)]}"#)
        #expect(st == 400 && field(j) == "candidates")
        (st, j) = try await post("/v1/recommend", #"{"experiment": "homepage", "user": "u", "k": 0}"#)
        #expect(st == 400 && field(j) == "k")
        (st, j) = try await post("/v1/recommend", #"{"experiment": "homepage", "user": "u", "context": {"age": 1e999}}"#)
        #expect(st == 400, "\(j)")
        (st, j) = try await post("/v1/recommend", #"{"experiment": "homepage", "user": "u", "context": {"age": [1]}}"#)
        #expect(st == 400 && field(j) == "context.age")
        (st, _) = try await post("/v1/recommend", String(repeating: " ", count: 2 << 20) + "{}")
        #expect(st == 413)
        (st, j) = try await post("/v1/feedback", #"{"request_id": "nope", "item": "1", "label": 1}"#)
        #expect(st == 404 && field(j) == "request_id")
        let rec = try await ServerHarness.recommend(s, user: "qa-online")
        let id = rec["request_id"] as! String
        (st, j) = try await post("/v1/feedback", #"{"request_id": "\#(id)", "item": "1", "label": 1.5}"#)
        #expect(st == 400 && field(j) == "label")
        (st, j) = try await post("/v1/feedback", #"{"request_id": "\#(id)", "item": "999", "label": 1}"#)
        #expect(st == 404 && field(j) == "item")
        (st, j) = try await post("/v1/feedback", #"{"request_id": "\#(id)", "item": "1"}"#)
        #expect(st == 400 && field(j) == "label")
        // Admin routes without or with a wrong token.
        let (noAuth, _) = try await s.get("/v1/admin/models")
        #expect(noAuth == 401)
        let (wrong, _) = try await s.get("/v1/admin/models", token: "guess")
        #expect(wrong == 401)
        // Nothing changed: the online model is the same version, the server still serves.
        try await Task.sleep(for: .milliseconds(400))
        #expect(try await ServerHarness.admin(s, "GET", "/v1/admin/models/online").1["current"] as? String == before)
        _ = try await ServerHarness.recommend(s, user: "u1")
        // A valid feedback is accepted once, a repeat is a conflict.
        (st, _) = try await post("/v1/feedback", #"{"request_id": "\#(id)", "item": "1", "label": 0}"#)
        #expect(st == 200)
        (st, j) = try await post("/v1/feedback", #"{"request_id": "\#(id)", "item": "1", "label": 0}"#)
        #expect(st == 409 && code(j) == "duplicate_feedback")
    }

    @Test func metricsPassPromtoolAndCountersMove() async throws {
        let s = try await ServerHarness.start(try ServerHarness.dataDirectory())
        defer { s.stop() }
        for i in 0..<20 {
            let r = try await ServerHarness.recommend(s, user: "user-\(i)")
            let item = ((r["items"] as! [[String: Any]])[0]["id"] as! String)
            _ = try await s.post("/v1/feedback", ["request_id": r["request_id"]!, "item": item, "label": i % 3 == 0 ? 1 : 0])
        }
        try await Task.sleep(for: .milliseconds(400))
        let (status, data) = try await s.get("/metrics")
        #expect(status == 200)
        let text = String(decoding: data, as: UTF8.self)
        for name in ["duet_http_request_duration_seconds_bucket", "duet_recommendations_total", "duet_feedback_total", "duet_model_version",
                     "duet_online_updates_total", "duet_srm_p_value", "duet_feature_fetch_duration_seconds_bucket"] {
            #expect(text.contains(name), "missing \(name)")
        }
        let recs = text.split(separator: "\n").filter { $0.hasPrefix("duet_recommendations_total{") }
            .compactMap { Double($0.split(separator: " ").last!) }.reduce(0, +)
        #expect(recs == 20)
        let promtool = Process()
        promtool.executableURL = URL(fileURLWithPath: "/usr/bin/promtool")
        promtool.arguments = ["check", "metrics"]
        let input = Pipe(), output = Pipe()
        promtool.standardInput = input
        promtool.standardOutput = output
        promtool.standardError = output
        try promtool.run()
        try input.fileHandleForWriting.write(contentsOf: data)
        try input.fileHandleForWriting.close()
        promtool.waitUntilExit()
        let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(promtool.terminationStatus == 0, "promtool: \(said)")
    }

    @Test func aRestartResumesTheOnlineModelFromItsCheckpoint() async throws {
        let dir = try ServerHarness.dataDirectory()
        let s = try await ServerHarness.start(dir)
        for i in 0..<30 {
            let r = try await ServerHarness.recommend(s, user: "qa-online")
            _ = try await s.post("/v1/feedback", ["request_id": r["request_id"]!, "item": "1", "label": i % 2])
            _ = i
        }
        var last = ""
        _ = try await ServerHarness.eventually(3) {
            last = ServerHarness.modelVersion(try await ServerHarness.recommend(s, user: "qa-online"))
            return Int(last) ?? 0 > 1
        }
        #expect(s.stop() == 0)
        let again = try await ServerHarness.start(dir)
        defer { again.stop() }
        let resumed = ServerHarness.modelVersion(try await ServerHarness.recommend(again, user: "qa-online"))
        #expect(Int(resumed) ?? 0 >= Int(last) ?? 1, "resumed \(resumed), before restart \(last)")
        #expect(again.log.contains("resumed from checkpoint"))
    }

    @Test func sigtermDrainsInFlightRequests() async throws {
        let s = try await ServerHarness.start(try ServerHarness.dataDirectory())
        let results = await withTaskGroup(of: Int.self) { group -> [Int] in
            for i in 0..<40 {
                group.addTask {
                    (try? await s.post("/v1/recommend", ["experiment": "homepage", "user": "u\(i)"]).0) ?? -1
                }
            }
            try? await Task.sleep(for: .milliseconds(5))
            kill(s.process.processIdentifier, SIGTERM)
            var out: [Int] = []
            for await r in group { out.append(r) }
            return out
        }
        s.process.waitUntilExit()
        #expect(s.process.terminationStatus == 0)
        // Every request either completed or was never accepted (connection refused): none failed half-way.
        #expect(results.allSatisfy { $0 == 200 || $0 == -1 }, "\(results)")
        #expect(results.contains(200))
    }

    @Test func withoutAStaticModelTheServerIsNotReadyUntilOneArrives() async throws {
        let dir = try ServerHarness.dataDirectory(withModel: false)
        let s = try await ServerHarness.start(dir)
        defer { s.stop() }
        #expect(try await s.get("/readyz").0 == 503)
        let (st, _) = try await s.post("/v1/recommend", ["experiment": "homepage", "user": "u1"])
        #expect(st == 503)
        // `duet train` writes elsewhere; renaming into models/static/ is picked up by the watch.
        let tmp = dir.appendingPathComponent("new.duet")
        try FileManager.default.copyItem(atPath: ServerHarness.staticModel, toPath: tmp.path)
        try FileManager.default.moveItem(at: tmp, to: dir.appendingPathComponent("models/static/late.duet"))
        #expect(try await ServerHarness.eventually(5) { try await ServerHarness.admin(s, "GET", "/v1/admin/models/static").1["current"] as? String == "late" })
        // Serving, but not ready: a running experiment (search-ranking-b) pins static@obd-static, which is not there.
        #expect(try await s.get("/readyz").0 == 503)
        #expect(s.log.contains("experiment search-ranking-b arm pinned: static@obd-static"), "\(s.log)")
        let r = try await ServerHarness.recommend(s, user: "qa-static")
        #expect(ServerHarness.modelVersion(r) == "late")
        // The pinned file arrives: ready.
        try FileManager.default.copyItem(atPath: ServerHarness.staticModel, toPath: dir.appendingPathComponent("pinned.duet").path)
        try FileManager.default.moveItem(at: dir.appendingPathComponent("pinned.duet"), to: dir.appendingPathComponent("models/static/obd-static.duet"))
        #expect(try await ServerHarness.eventually(5) { try await s.get("/readyz").0 == 200 })
        let audit = try ServerHarness.cli(s, ["audit"])
        #expect(audit.stdout.contains("file-watch\tmodel.static_loaded\tstatic"))
    }
}

/// Debian's real Prometheus scrapes a running `duet serve` (scripts/prometheus-scrape-test).
@Suite struct PrometheusScrapeTests {
    @Test func prometheusScrapesDuet() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus") else {
            Issue.record("prometheus is not installed (make deps installs it)")
            return
        }
        let s = try await ServerHarness.start(try ServerHarness.dataDirectory())
        defer { s.stop() }
        _ = try await ServerHarness.recommend(s, user: "u1")
        let r = try TestSupport.run([s.baseURL], executable: TestSupport.packageRoot.appendingPathComponent("scripts/prometheus-scrape-test"))
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("up"))
    }
}

/// The real server reading features from a real Redis, loaded and promoted by the real CLI.
@Suite struct RedisServingTests {
    @Test func recommendWithFeaturesFromRedisAndDegradeWhenRedisDies() async throws {
        let redis = try RedisServer.start()
        defer { redis.stop() }
        for set in ["user_profile", "item_catalog"] {
            let version = try String(contentsOf: TestSupport.packageRoot.appendingPathComponent("features/snapshots/\(set)/current"), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let load = try TestSupport.run(["features", "load", "features/snapshots/\(set)/\(version)", "--redis", redis.url])
            #expect(load.status == 0, "\(load.stderr)")
            let promote = try TestSupport.run(["features", "promote", set, version, "--redis", redis.url])
            #expect(promote.status == 0, "\(promote.stderr)")
        }
        let s = try await ServerHarness.start(try ServerHarness.dataDirectory(), ["--redis", redis.url])
        defer { s.stop() }
        let r = try await ServerHarness.recommend(s, user: "u7")
        #expect(r["features_degraded"] as? Bool == false, "\(r)")
        #expect((r["feature_version"] as? String)?.contains("item_catalog@") == true)
        // Without candidates the whole item catalog (from Redis) is ranked.
        let all = try await ServerHarness.recommend(s, user: "u7", candidates: nil, k: 50)
        #expect((all["items"] as? [[String: Any]])?.count == 34)
        let (fs, _) = try await s.post("/v1/feedback", ["request_id": r["request_id"]!, "item": "1", "label": 1])
        #expect(fs == 200)
        // Redis dies: requests still succeed, with default features and the flag set.
        redis.kill()
        let degraded = try await ServerHarness.recommend(s, user: "u8")
        #expect(degraded["features_degraded"] as? Bool == true, "\(degraded)")
        try redis.launch()
        for set in ["user_profile", "item_catalog"] {
            let version = try String(contentsOf: TestSupport.packageRoot.appendingPathComponent("features/snapshots/\(set)/current"), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            _ = try TestSupport.run(["features", "load", "features/snapshots/\(set)/\(version)", "--redis", redis.url])
            _ = try TestSupport.run(["features", "promote", set, version, "--redis", redis.url])
        }
        let recovered = try await ServerHarness.eventually(5) {
            try await ServerHarness.recommend(s, user: "u9")["features_degraded"] as? Bool == false
        }
        #expect(recovered)
    }

    /// Candidates' features are prepared once per item version: a promote serves the new version's
    /// features at once, and a rollback the old ones again, never a mix.
    @Test func promotingAnItemVersionServesItsFeaturesAndRollbackRestores() async throws {
        let redis = try RedisServer.start()
        defer { redis.stop() }
        for (set, version) in [("user_profile", "v1"), ("item_catalog", "v2"), ("item_catalog", "v1")] {
            #expect(try TestSupport.run(["features", "load", "features/snapshots/\(set)/\(version)", "--redis", redis.url]).status == 0)
        }
        for set in ["user_profile", "item_catalog"] {
            #expect(try TestSupport.run(["features", "promote", set, "v1", "--redis", redis.url]).status == 0)
        }
        let s = try await ServerHarness.start(try ServerHarness.dataDirectory(), ["--redis", redis.url])
        defer { s.stop() }
        func scores() async throws -> (String, [String: Double]) {
            let r = try await ServerHarness.recommend(s, user: "u7", candidates: ["0", "1", "2", "3"], k: 4)
            let items = r["items"] as? [[String: Any]] ?? []
            return (r["feature_version"] as? String ?? "", Dictionary(uniqueKeysWithValues: items.map { ($0["id"] as! String, $0["score"] as! Double) }))
        }
        let (v1, s1) = try await scores()
        #expect(v1.hasSuffix("item_catalog@v1"))
        #expect(try await scores().1 == s1)
        // v2 doubles item_feature_0: promoted, it is served within the pointer refresh.
        #expect(try TestSupport.run(["features", "promote", "item_catalog", "v2", "--redis", redis.url]).status == 0)
        #expect(try await ServerHarness.eventually(3) { try await scores().0.hasSuffix("item_catalog@v2") })
        let s2 = try await scores().1
        #expect(s2 != s1)
        #expect(try TestSupport.run(["features", "rollback", "item_catalog", "--redis", redis.url]).status == 0)
        #expect(try await ServerHarness.eventually(3) { try await scores().0.hasSuffix("item_catalog@v1") })
        #expect(try await scores().1 == s1)
    }
}
