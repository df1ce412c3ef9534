import DuetFeatures
import DuetTestSupport
import Foundation
import Testing

@Suite struct SnapshotPullerTests {
    /// Serves a copy of the item_catalog samples (and a corrupted one) over a real HTTP server.
    func serve() throws -> (PythonHTTPServer, URL) {
        let root = try TestSupport.temporaryDirectory("http-root")
        let snaps = root.appendingPathComponent("snapshots/item_catalog")
        try FileManager.default.createDirectory(at: snaps, withIntermediateDirectories: true)
        for v in ["v1", "v2"] {
            try FileManager.default.copyItem(atPath: sampleSnapshot("item_catalog", v), toPath: snaps.appendingPathComponent(v).path)
        }
        try FileManager.default.copyItem(atPath: sampleSnapshot("item_catalog", "v1"), toPath: snaps.appendingPathComponent("bad").path)
        let data = snaps.appendingPathComponent("bad/data.csv")
        var bytes = try Data(contentsOf: data)
        bytes[100] = bytes[100] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
        try bytes.write(to: data)
        // An S3-style layout for the endpoint override: /bucket/prefix/…
        try FileManager.default.createDirectory(at: root.appendingPathComponent("bucket/prefix"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: sampleSnapshot("item_catalog", "v2"), toPath: root.appendingPathComponent("bucket/prefix/v2").path)
        return (try PythonHTTPServer(directory: root), root)
    }

    @Test func pullOverHTTPVerifiesAndWrites() throws {
        let (server, _) = try serve()
        defer { server.stop() }
        let out = try TestSupport.temporaryDirectory().appendingPathComponent("v2")
        let m = try SnapshotPuller(environment: [:]).pull(source: "\(server.base)/snapshots/item_catalog/v2", out: out.path)
        #expect(m.version == "v2" && m.rows == 34)
        let s = try Snapshot.open(directory: out.path)
        #expect(s.manifest == m)
        // Nothing else left beside it.
        let siblings = try FileManager.default.contentsOfDirectory(atPath: out.deletingLastPathComponent().path)
        #expect(siblings == ["v2"])
        #expect { try SnapshotPuller(environment: [:]).pull(source: "\(server.base)/snapshots/item_catalog/v1", out: out.path) } throws: {
            "\($0)".contains("already exists")
        }
    }

    @Test func http404IsAClearErrorAndLeavesNothing() throws {
        let (server, _) = try serve()
        defer { server.stop() }
        let parent = try TestSupport.temporaryDirectory()
        let out = parent.appendingPathComponent("v9")
        let url = "\(server.base)/snapshots/item_catalog/v9"
        #expect { try SnapshotPuller(environment: [:]).pull(source: url, out: out.path) } throws: { e in
            let s = "\(e)"
            return s.contains("404") && s.contains("\(url)/manifest.json")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent.path).isEmpty)
    }

    @Test func checksumMismatchOverHTTPIsRefused() throws {
        let (server, _) = try serve()
        defer { server.stop() }
        let parent = try TestSupport.temporaryDirectory()
        #expect { try SnapshotPuller(environment: [:]).pull(source: "\(server.base)/snapshots/item_catalog/bad", out: parent.appendingPathComponent("bad").path) } throws: {
            ($0 as? FeatureError)?.code == .checksumMismatch
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent.path).isEmpty)
    }

    /// Path-style URLs under an endpoint override. This server ignores the signature: signing is
    /// checked by AWSSigV4Tests (on the wire) and SnapshotPullerS3Tests (against moto).
    @Test func pullFromS3EndpointOverrideUsesPathStyleURLs() throws {
        let (server, _) = try serve()
        defer { server.stop() }
        let out = try TestSupport.temporaryDirectory().appendingPathComponent("v2")
        let env = ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "eu-west-1"]
        let puller = SnapshotPuller(s3Endpoint: server.base, environment: env)
        #expect(puller.credentials?.accessKeyID == "AKIDEXAMPLE")
        let m = try puller.pull(source: "s3://bucket/prefix/v2", out: out.path)
        #expect(m.set == "item_catalog" && m.version == "v2")
    }

    @Test func pullFromALocalPath() throws {
        let out = try TestSupport.temporaryDirectory().appendingPathComponent("copy")
        let m = try SnapshotPuller(environment: [:]).pull(source: sampleSnapshot("item_catalog", "v1"), out: out.path)
        #expect(m.rows == 34)
        #expect { try SnapshotPuller(environment: [:]).pull(source: "/nonexistent/snap", out: out.path + "2") } throws: { "\($0)".contains("/nonexistent/snap/manifest.json") }
    }
}
