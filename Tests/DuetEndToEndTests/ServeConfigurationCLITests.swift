import DuetTestSupport
import Foundation
import Testing

/// `duet serve`'s settings (one table in the executable): file < environment < flags; every
/// documented key settable; a bad value or an unknown key stops the start with one line naming it.
@Suite struct ServeConfigurationCLITests {
    @Test func badSettingsStopTheStartNamingWhereAndWhat() throws {
        let dir = try TestSupport.temporaryDirectory("serve-config")
        let file = dir.appendingPathComponent("duet.yaml")
        try "port: 8080\ncolour: red\n".write(to: file, atomically: true, encoding: .utf8)
        let unknown = try TestSupport.run(["serve", "--config", file.path, "--data-dir", dir.path])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("\(file.path): unknown setting 'colour'"))
        #expect(unknown.stderr.contains("versions_kept") && unknown.stderr.contains("user_feature_set"))

        let env = try TestSupport.run(["serve", "--data-dir", dir.path], environment: ["DUET_VERSIONS_KEPT": "0"])
        #expect(env.status != 0)
        #expect(env.stderr.contains("DUET_VERSIONS_KEPT: versions_kept: expected a positive integer, got '0'"))

        let executor = try TestSupport.run(["serve", "--data-dir", dir.path], environment: ["DUET_EXECUTOR": "threads"])
        #expect(executor.status != 0)
        #expect(executor.stderr.contains("DUET_EXECUTOR: executor: expected event_loops or pool, got 'threads'"))

        let token = try TestSupport.run(["serve", "--data-dir", dir.path, "--admin-token", "alice:"])
        #expect(token.status != 0)
        #expect(token.stderr.contains("--admin-token: token 'alice:': expected NAME:TOKEN"))
    }

    @Test func fileThenEnvironmentThenFlagsAndEveryKeyIsSettable() async throws {
        let dir = try TestSupport.temporaryDirectory("serve-config")
        let port = TestSupport.freePort()
        let file = dir.appendingPathComponent("duet.yaml")
        // The file sets every key the README documents; the environment and a flag override two of them.
        try """
        host: 127.0.0.1
        port: 1
        data_dir: \(dir.appendingPathComponent("data").path)
        experiments: experiments
        features: features
        redis: ""
        admin_token: "file:from-file"
        max_candidates: 50
        max_body_bytes: 65536
        max_context_keys: 8
        feedback_rate_per_client: 0
        idle_timeout_seconds: 20
        max_connections: 100
        max_string_length: 64
        impression_ttl_seconds: 60
        impression_capacity: 1000
        publish_interval_ms: 100
        publish_every: 500
        checkpoint_interval_ms: 60000
        feature_budget_ms: 5
        user_feature_set: user_profile
        item_feature_set: item_catalog
        versions_kept: 3
        executor: event_loops

        """.write(to: file, atomically: true, encoding: .utf8)
        let server = try await DuetServerProcess.start(
            dataDirectory: dir.appendingPathComponent("data"), port: port, arguments: ["--config", file.path],
            environment: ["DUET_ADMIN_TOKEN": "env:from-env", "DUET_EXECUTOR": "pool"])
        defer { _ = server.stop() }
        // The flag's port won over the file's; the environment's token (and Swift's own pool, where every
        // other test's server runs tasks on the event loops) over the file's.
        #expect(try await server.get("/v1/admin/models", token: "from-env").0 == 200)
        #expect(try await server.get("/v1/admin/models", token: "from-file").0 == 401)
        // max_candidates from the file.
        let (status, body) = try await server.post("/v1/recommend", ["experiment": "homepage", "user": "u", "k": 51])
        #expect(status == 400)
        #expect("\(body)".contains("between 1 and 50"))
    }
}
