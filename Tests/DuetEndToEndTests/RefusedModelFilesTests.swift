import DuetTestSupport
import Foundation
import Testing

/// The real `duet serve` meets model files someone wrote to hurt it, checksum and all (issue 16): it
/// refuses them, counts them in `duet_model_files_refused_total{reason}`, serves the newest file that
/// reads, and keeps doing so across restarts while the files are still there.
@Suite(.serialized) struct RefusedModelFilesTests {
    /// The harness's static model with `edit` applied to its header, re-sealed.
    static func rewritten(_ edit: @escaping (inout [String: Any]) -> Void) throws -> Data {
        let valid = [UInt8](try Data(contentsOf: URL(fileURLWithPath: ServerHarness.staticModel)))
        return Data(HostileModelFile.rewrite(valid) { $0.editHeader(edit) })
    }

    /// `"k": -1`: the file that crash-looped the server before.
    static func hostile(id: String) throws -> Data {
        try rewritten { h in
            h["id"] = id
            var config = h["config"] as! [String: Any]
            config["k"] = -1
            h["config"] = config
        }
    }

    static func write(_ data: Data, _ path: URL, age: TimeInterval) throws {
        try data.write(to: path)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-age)], ofItemAtPath: path.path)
    }

    static func metrics(_ s: DuetServerProcess) async throws -> String {
        String(decoding: try await s.get("/metrics").1, as: UTF8.self)
    }

    static func current(_ s: DuetServerProcess, _ slot: String) async throws -> String? {
        try await ServerHarness.admin(s, "GET", "/v1/admin/models/\(slot)").1["current"] as? String
    }

    @Test func aHostileStaticFileNextToAGoodOneIsRefusedAtStartRestartAndWatch() async throws {
        let dir = try ServerHarness.dataDirectory()
        let models = dir.appendingPathComponent("models/static")
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-60)],
                                              ofItemAtPath: models.appendingPathComponent("obd-static.duet").path)
        try Self.write(try Self.hostile(id: "evil"), models.appendingPathComponent("evil.duet"), age: 0)
        for run in 1...2 {
            // Started twice on the same directory: the file is still there at the restart.
            let s = try await ServerHarness.start(dir)
            defer { s.stop() }
            #expect(try await s.get("/readyz").0 == 200, "run \(run)")
            #expect(try await Self.current(s, "static") == "obd-static", "run \(run)")
            #expect(ServerHarness.modelVersion(try await ServerHarness.recommend(s, user: "qa-static")) == "obd-static")
            #expect(try await Self.metrics(s).contains(#"duet_model_files_refused_total{reason="range"} 1"#), "run \(run)")
            #expect(s.log.contains("static model file refused") && s.log.contains("config.k = -1"))
            if run == 2 {
                // One renamed into the watched directory while serving: refused and counted too.
                let tmp = dir.appendingPathComponent("late-evil.duet")
                try Self.hostile(id: "late-evil").write(to: tmp)
                try FileManager.default.moveItem(at: tmp, to: models.appendingPathComponent("late-evil.duet"))
                #expect(try await ServerHarness.eventually(5) {
                    try await Self.metrics(s).contains(#"duet_model_files_refused_total{reason="range"} 2"#)
                })
                #expect(s.process.isRunning)
                #expect(try await Self.current(s, "static") == "obd-static")
            }
            #expect(s.stop() == 0, "run \(run): \(s.log)")
        }
    }

    @Test func currentNamingAHostileCheckpointResumesFromTheNewestGoodOne() async throws {
        let dir = try ServerHarness.dataDirectory()
        let online = dir.appendingPathComponent("models/online")
        try FileManager.default.createDirectory(at: online, withIntermediateDirectories: true)
        let good = try Self.rewritten { h in
            h["id"] = "2"
            h["kind"] = "online"
        }
        try Self.write(good, online.appendingPathComponent("2.duet"), age: 60)
        try Self.write(try Self.hostile(id: "5"), online.appendingPathComponent("5.duet"), age: 0)
        try "5\n".write(to: online.appendingPathComponent("CURRENT"), atomically: true, encoding: .utf8)
        let s = try await ServerHarness.start(dir)
        defer { s.stop() }
        #expect(try await s.get("/readyz").0 == 200)
        #expect(try await Self.current(s, "online") == "2")
        #expect(ServerHarness.modelVersion(try await ServerHarness.recommend(s, user: "qa-online")) == "2")
        #expect(try await Self.metrics(s).contains(#"duet_model_files_refused_total{reason="range"} 1"#))
        #expect(s.log.contains("online model resumed from another checkpoint"))
        // The next checkpoint points CURRENT at the version that serves.
        #expect(await ServerHarness.eventually(5) {
            (try? String(contentsOf: online.appendingPathComponent("CURRENT"), encoding: .utf8)) == "2\n"
        })
        #expect(s.stop() == 0, "\(s.log)")
    }
}
