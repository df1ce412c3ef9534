import DuetTestSupport
import Foundation
import Testing

/// What an operator set and what the experiments counted come back after a restart.
@Suite struct RestartStateTests {
    static func requests(_ s: DuetServerProcess) async throws -> [Int] {
        let report = try await ServerHarness.admin(s, "GET", "/v1/admin/experiments/homepage/report").1
        return (report["arms"] as? [[String: Any]] ?? []).map { $0["requests"] as? Int ?? -1 }
    }

    @Test func aPromotedStaticVersionAndTheExperimentCountsSurviveARestart() async throws {
        let dir = try ServerHarness.dataDirectory()
        let models = dir.appendingPathComponent("models/static")
        // A newer static file: the newest is current at start.
        try FileManager.default.copyItem(atPath: ServerHarness.staticModel, toPath: models.appendingPathComponent("newer.duet").path)
        let s = try await ServerHarness.start(dir)
        #expect(try await ServerHarness.admin(s, "GET", "/v1/admin/models/static").1["current"] as? String == "newer")
        #expect(try ServerHarness.cli(s, ["model", "promote", "static", "obd-static"]).status == 0)
        for u in 0..<40 { _ = try await ServerHarness.recommend(s, user: "count-\(u)") }
        let before = try await Self.requests(s)
        #expect(before.reduce(0, +) == 40)
        #expect(s.stop() == 0)

        let again = try await ServerHarness.start(dir)
        // The operator's choice, not the newest file.
        #expect(try await ServerHarness.admin(again, "GET", "/v1/admin/models/static").1["current"] as? String == "obd-static")
        #expect(again.log.contains("the operator's choice restored"))
        // The counts continue.
        #expect(try await Self.requests(again) == before)
        _ = try await ServerHarness.recommend(again, user: "count-0")
        #expect(try await Self.requests(again).reduce(0, +) == 41)
        // The users already counted stay counted: a returning user is not a new one after a restart.
        let users = (try await ServerHarness.admin(again, "GET", "/v1/admin/experiments/homepage").1["arms"] as? [[String: Any]] ?? [])
            .map { $0["assigned"] as? Int ?? -1 }.reduce(0, +)
        #expect(users == 40)
        // A new static file is a new choice.
        try FileManager.default.copyItem(atPath: ServerHarness.staticModel, toPath: dir.appendingPathComponent("x.duet").path)
        try FileManager.default.moveItem(at: dir.appendingPathComponent("x.duet"), to: models.appendingPathComponent("latest.duet"))
        #expect(try await ServerHarness.eventually { try await ServerHarness.admin(again, "GET", "/v1/admin/models/static").1["current"] as? String == "latest" })
        #expect(!FileManager.default.fileExists(atPath: models.appendingPathComponent("CURRENT").path))
        #expect(again.stop() == 0)
    }
}
