import DuetTestSupport
import Foundation
import Testing

/// `duet features …` as a real process against a real redis-server and a real HTTP server.
@Suite struct FeaturesCLITests {
    func snapshot(_ set: String, _ version: String) -> String {
        TestSupport.packageRoot.appendingPathComponent("features/snapshots/\(set)/\(version)").path
    }

    @Test func loadPromoteListRollbackDrop() throws {
        let redis = try RedisServer.start()
        defer { redis.kill(); redis.stop() }
        let env = ["DUET_REDIS": redis.url]

        let l1 = try TestSupport.run(["features", "load", snapshot("item_catalog", "v1")], environment: env)
        #expect(l1.status == 0, "\(l1.stderr)")
        #expect(l1.stdout.contains("loaded item_catalog@v1: 34 rows"))
        #expect(try TestSupport.run(["features", "load", snapshot("item_catalog", "v2"), "--redis", redis.url]).status == 0)
        let p = try TestSupport.run(["features", "promote", "item_catalog", "v1"], environment: env)
        #expect(p.status == 0 && p.stdout.contains("none → v1"))
        #expect(try TestSupport.run(["features", "promote", "item_catalog", "v2"], environment: env).stdout.contains("v1 → v2"))

        let list = try TestSupport.run(["features", "list"], environment: env)
        #expect(list.status == 0)
        #expect(list.stdoutLines.contains { $0.hasPrefix("item_catalog") && $0.contains("v2") && $0.contains("current") && $0.contains("34") })
        #expect(list.stdoutLines.contains { $0.contains("v1") && $0.contains("previous") })

        let get = try TestSupport.run(["features", "get", "item_catalog", "0"], environment: env)
        #expect(get.stdout.contains("version=v2 degraded=false") && get.stdout.contains("item_feature_0=-1.3543662279270234"))

        let rb = try TestSupport.run(["features", "rollback", "item_catalog"], environment: env)
        #expect(rb.status == 0 && rb.stdout.contains("v2 → v1"))

        let dropCurrent = try TestSupport.run(["features", "drop", "item_catalog", "v1"], environment: env)
        #expect(dropCurrent.status != 0 && dropCurrent.stderr.contains("current version"))
        #expect(try TestSupport.run(["features", "drop", "item_catalog", "v2"], environment: env).status == 0)
        let missing = try TestSupport.run(["features", "promote", "item_catalog", "v2"], environment: env)
        #expect(missing.status != 0 && missing.stderr.contains("no complete version v2"))
    }

    @Test func badInputFailsWithOneClearLineAndChangesNothing() throws {
        let redis = try RedisServer.start()
        defer { redis.kill(); redis.stop() }
        let env = ["DUET_REDIS": redis.url]
        // A corrupted copy of a sample.
        let dir = try TestSupport.temporaryDirectory()
        let bad = dir.appendingPathComponent("v1")
        try FileManager.default.copyItem(atPath: snapshot("item_catalog", "v1"), toPath: bad.path)
        let data = bad.appendingPathComponent("data.csv")
        let bytes = try Data(contentsOf: data)
        try bytes.prefix(bytes.count - 10).write(to: data)
        let r = try TestSupport.run(["features", "load", bad.path], environment: env)
        #expect(r.status != 0)
        #expect(r.stderr.contains("data.csv") && r.stderr.contains("truncated"))
        #expect(try TestSupport.run(["features", "list"], environment: env).stdout.contains("no feature versions"))

        let noRedis = try TestSupport.run(["features", "list"], environment: ["DUET_REDIS": ""])
        #expect(noRedis.status != 0 && noRedis.stderr.contains("DUET_REDIS"))
        let down = try TestSupport.run(["features", "list", "--redis", "redis://127.0.0.1:\(TestSupport.freePort())"])
        #expect(down.status != 0 && down.stderr.contains("cannot connect"))
        #expect(try TestSupport.run(["features", "rollback", "item_catalog"], environment: env).status != 0)
    }

    @Test func pullOverHTTPAndA404() throws {
        let root = try TestSupport.temporaryDirectory("http-root")
        try FileManager.default.copyItem(atPath: snapshot("item_catalog", "v2"), toPath: root.appendingPathComponent("v2").path)
        let port = TestSupport.freePort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["python3", "-m", "http.server", "--bind", "127.0.0.1", String(port)]
        server.currentDirectoryURL = root
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        #expect(TestSupport.waitForPort(port))

        let out = try TestSupport.temporaryDirectory()
        let ok = try TestSupport.run(["features", "pull", "http://127.0.0.1:\(port)/v2", "--out", out.appendingPathComponent("v2").path])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("pulled item_catalog@v2: 34 rows"))
        #expect(try TestSupport.run(["features", "verify", out.appendingPathComponent("v2").path]).status == 0)

        let missing = try TestSupport.run(["features", "pull", "http://127.0.0.1:\(port)/v7", "--out", out.appendingPathComponent("v7").path])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("HTTP 404") && missing.stderr.contains("http://127.0.0.1:\(port)/v7/manifest.json"))
        #expect(missing.stderr.split(separator: "\n").count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path) == ["v2"])
    }

    @Test func embeddedReadWithoutRedis() throws {
        let r = try TestSupport.run(["features", "get", "user_profile", "u3"], environment: ["DUET_REDIS": ""])
        #expect(r.status == 0)
        #expect(r.stdout.contains("set=user_profile version=v1 degraded=false"))
        #expect(r.stdout.contains("u3 found=true"))
    }
}
