import DuetTestSupport
import Foundation
import Testing

/// Pins against the real binary: refused when the version is not there, held while pinned, and a
/// pin broken at start keeps the server not ready.
@Suite struct PinTests {
    static func pinned(_ ref: String) -> String {
        """
        key: homepage
        arms:
          - {name: static, weight: 0.5, model: static}
          - {name: online, weight: 0.5, model: "\(ref)"}
        force:
          qa-online: online
        """
    }

    static func feedback(_ s: DuetServerProcess, _ n: Int, user: String = "qa-online") async throws {
        for i in 0..<n {
            let r = try await ServerHarness.recommend(s, user: user)
            let (status, _) = try await s.post("/v1/feedback", ["request_id": r["request_id"] as? String ?? "", "item": "1", "label": i % 2])
            #expect(status == 200)
        }
    }

    @Test func applyRefusesPinsToVersionsNoSlotKeeps() async throws {
        let s = try await ServerHarness.start(try ServerHarness.dataDirectory())
        defer { s.stop() }
        for ref in ["static@does-not-exist", "online@99999"] {
            let r = try ServerHarness.cli(s, ["experiment", "apply", try ControlPlaneTests.write(Self.pinned(ref))])
            #expect(r.status != 0, "\(ref) was accepted")
            #expect(r.stderr.contains("arms[1].model") && r.stderr.contains(ref), "\(r.stderr)")
        }
        // Nothing was applied.
        #expect(try ServerHarness.cli(s, ["experiment", "list"]).stdout.contains("homepage\trevision 1"))
    }

    @Test func aValidOnlinePinKeepsServingWhileTheLearnerPublishesAndAfterARestart() async throws {
        let dir = try ServerHarness.dataDirectory()
        let env = ["DUET_PUBLISH_EVERY": "1", "DUET_VERSIONS_KEPT": "4"]
        let s = try await ServerHarness.start(dir, environment: env)
        try await Self.feedback(s, 3)
        let pin = try #require(try await ServerHarness.admin(s, "GET", "/v1/admin/models/online").1["current"] as? String)
        let applied = try ServerHarness.cli(s, ["experiment", "apply", try ControlPlaneTests.write(Self.pinned("online@\(pin)"))])
        #expect(applied.status == 0, "\(applied.stderr)")
        // Every feedback event publishes a version: the ring of 4 turns over many times.
        try await Self.feedback(s, 30, user: "someone-else")
        for i in 0..<10 {
            let r = try await ServerHarness.recommend(s, user: "qa-online-\(i)")
            if r["arm"] as? String == "online" { #expect(ServerHarness.modelVersion(r) == pin) }
        }
        #expect(ServerHarness.modelVersion(try await ServerHarness.recommend(s, user: "qa-online")) == pin)
        // The pinned version reaches the disk (within a checkpoint period) and survives a restart.
        #expect(await ServerHarness.eventually { FileManager.default.fileExists(atPath: dir.appendingPathComponent("models/online/\(pin).duet").path) })
        #expect(s.stop() == 0)
        let again = try await ServerHarness.start(dir, environment: env)
        defer { again.stop() }
        #expect(try await again.get("/readyz").0 == 200, "\(again.log)")
        #expect(ServerHarness.modelVersion(try await ServerHarness.recommend(again, user: "qa-online")) == pin)
        // Rollback works after a restart: the history came back from the checkpoints.
        let rb = try ServerHarness.cli(again, ["rollback", "online"])
        #expect(rb.status == 0, "\(rb.stderr)")
    }

    @Test func aPinToAStaticFileOlderThanTheKeptVersionsIsReadBack() async throws {
        let dir = try ServerHarness.dataDirectory()
        let models = dir.appendingPathComponent("models/static")
        // obd-static (oldest), then three newer files; only 2 versions are kept in memory.
        for (i, name) in ["b", "c", "d"].enumerated() {
            let path = models.appendingPathComponent("\(name).duet").path
            try FileManager.default.copyItem(atPath: ServerHarness.staticModel, toPath: path)
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(Double(i + 1))], ofItemAtPath: path)
        }
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-60)], ofItemAtPath: models.appendingPathComponent("obd-static.duet").path)
        let s = try await ServerHarness.start(dir, environment: ["DUET_VERSIONS_KEPT": "2"])
        defer { s.stop() }
        // search-ranking-b pins static@obd-static, which left memory at start: read back, so ready.
        #expect(try await s.get("/readyz").0 == 200, "\(s.log)")
        #expect(s.log.contains("pinned version read back from its file"))
        let r = try ServerHarness.cli(s, ["experiment", "apply", try ControlPlaneTests.write(Self.pinned("static@b"))])
        #expect(r.status == 0, "\(r.stderr)")
    }

    @Test func aPinMissingAtStartKeepsTheServerNotReadyAndSaysWhichArm() async throws {
        let dir = try ServerHarness.dataDirectory()
        let s = try await ServerHarness.start(dir)
        try await Self.feedback(s, 2)
        let pin = try #require(try await ServerHarness.admin(s, "GET", "/v1/admin/models/online").1["current"] as? String)
        #expect(try ServerHarness.cli(s, ["experiment", "apply", try ControlPlaneTests.write(Self.pinned("online@\(pin)"))]).status == 0)
        try await Self.feedback(s, 2, user: "someone-else")
        #expect(await ServerHarness.eventually { FileManager.default.fileExists(atPath: dir.appendingPathComponent("models/online/\(pin).duet").path) })
        #expect(s.stop() == 0)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("models/online/\(pin).duet"))

        let again = try await ServerHarness.start(dir)
        defer { again.stop() }
        #expect(try await again.get("/readyz").0 == 503)
        #expect(again.log.contains("pinned model version missing") && again.log.contains("experiment homepage arm online: online@\(pin)"), "\(again.log)")
        // The status page flags the arm.
        let page = String(decoding: try await again.get("/").1, as: UTF8.self)
        #expect(page.contains("arm online is failing: online@\(pin) is not a version the online slot keeps"), "\(page)")
        // Applying a config without the pin makes it ready again.
        #expect(try ServerHarness.cli(again, ["experiment", "apply", "experiments/homepage.yaml"]).status == 0)
        #expect(try await again.get("/readyz").0 == 200)
    }
}
