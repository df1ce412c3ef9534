import DuetAPI
import DuetModels
@testable import DuetServer
import DuetTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Model files the server must refuse without falling over: a hostile static file next to a good one,
/// a `CURRENT` naming a hostile checkpoint. Each refusal is logged and counted in
/// `duet_model_files_refused_total{reason}`; the newest file that reads is used.
@Suite struct HostileModelFilesTests {
    /// A checksummed file with `"k": -1` (the issue's crash), made from a good one.
    static func hostile(_ good: ModelVersion) throws -> Data {
        Data(HostileModelFile.rewrite(try ModelFile.encode(good)) { $0.editConfig { $0["k"] = -1 } })
    }

    static func write(_ data: Data, to path: String, age: TimeInterval) throws {
        try data.write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-age)], ofItemAtPath: path)
    }

    /// The current id of each slot and the `/metrics` text.
    static func state(_ config: ServerConfiguration) async throws -> (static: String?, online: String?, ready: HTTPResponse.Status, metrics: String) {
        let app = try await buildApplication(config, dependencies: TestApp.dependencies(config))
        return try await app.test(.router) { client in
            let slots = try await client.execute(uri: "/v1/admin/models", method: .get, headers: AppTests.admin) { response in
                try AppTests.decode(SlotList.self, response).slots
            }
            let ready = try await client.execute(uri: "/readyz", method: .get) { $0.status }
            let metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            return (slots.first { $0.slot == "static" }?.current, slots.first { $0.slot == "online" }?.current, ready, metrics)
        }
    }

    @Test func aHostileStaticFileNewerThanTheGoodOneIsSkippedAndCounted() async throws {
        let config = try TestApp.configuration("hostile-static")
        let dir = config.dataDirectory + "/models/static"
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-60)], ofItemAtPath: dir + "/obd-static.duet")
        try Self.write(try Self.hostile(TestApp.staticModel()), to: dir + "/zz-evil.duet", age: 0)
        let s = try await Self.state(config)
        #expect(s.static == "obd-static" && s.ready == .ok)
        #expect(s.metrics.contains(#"duet_model_files_refused_total{reason="range"} 1"#), "\(s.metrics)")
        #expect(s.metrics.contains(#"duet_model_files_refused_total{reason="checksum"} 0"#))
    }

    @Test func currentNamingAHostileCheckpointResumesFromTheNewestGoodOne() async throws {
        let config = try TestApp.configuration("hostile-current")
        let online = config.dataDirectory + "/models/online"
        try FileManager.default.createDirectory(atPath: online, withIntermediateDirectories: true)
        let good = TestApp.staticModel()
        try ModelFile.write(good.renamed(id: "2", parentID: "obd-static", kind: .online), to: online + "/2.duet")
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-120)], ofItemAtPath: online + "/2.duet")
        try ModelFile.write(good.renamed(id: "3", parentID: "2", kind: .online), to: online + "/3.duet")
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-60)], ofItemAtPath: online + "/3.duet")
        try Self.write(try Self.hostile(good.renamed(id: "5", parentID: "3", kind: .online)), to: online + "/5.duet", age: 0)
        try "5\n".write(toFile: online + "/CURRENT", atomically: true, encoding: .utf8)
        let s = try await Self.state(config)
        #expect(s.online == "3" && s.ready == .ok)
        #expect(s.metrics.contains(#"duet_model_files_refused_total{reason="range"} 1"#), "\(s.metrics)")
    }

    @Test func currentNamingOnlyHostileOrForeignFilesWarmStartsFromStatic() async throws {
        for current in ["5", "../static/obd-static", "missing"] {
            let config = try TestApp.configuration("hostile-warm")
            let online = config.dataDirectory + "/models/online"
            try FileManager.default.createDirectory(atPath: online, withIntermediateDirectories: true)
            try Self.write(try Self.hostile(TestApp.staticModel().renamed(id: "5", parentID: nil, kind: .online)), to: online + "/5.duet", age: 0)
            try "\(current)\n".write(toFile: online + "/CURRENT", atomically: true, encoding: .utf8)
            let s = try await Self.state(config)
            // Warm from static: the first id after the files' (5).
            #expect(s.online == "6" && s.static == "obd-static" && s.ready == .ok, "CURRENT \(current)")
            #expect(s.metrics.contains(#"duet_model_files_refused_total{reason="range"} 1"#), "CURRENT \(current): \(s.metrics)")
        }
    }
}
