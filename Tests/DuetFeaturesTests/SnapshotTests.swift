import DuetFeatures
import DuetTestSupport
import Foundation
import Testing

@Suite struct SnapshotTests {
    @Test func shippedSamplesVerify() throws {
        let u = try Snapshot.open(directory: sampleSnapshot("user_profile", "v1"))
        #expect(u.manifest.rows == 10_000)
        let rows = try u.rows()
        #expect(rows[0].id == "u0")
        #expect(rows[9999].id == "u9999")
        let i2 = try Snapshot.open(directory: sampleSnapshot("item_catalog", "v2"))
        let i1 = try Snapshot.open(directory: sampleSnapshot("item_catalog", "v1"))
        let a = try #require(Double(try i1.rows()[0].values[0])), b = try #require(Double(try i2.rows()[0].values[0]))
        #expect(abs(b - 2 * a) < 1e-12)
    }

    @Test func quotedFieldsRoundTrip() throws {
        let dir = try TestSupport.temporaryDirectory()
        let path = try writeThings(in: dir, version: "v1", tag: 1, count: 3)
        let rows = try Snapshot.open(directory: path, definition: testDefinition).rows()
        #expect(rows[2].values == ["1.0", "b,\"2\"", "2"])
    }

    @Test func checksumMismatchIsRefused() throws {
        let dir = try TestSupport.temporaryDirectory()
        let path = try writeThings(in: dir, version: "v1", tag: 1)
        let data = URL(fileURLWithPath: path).appendingPathComponent("data.csv")
        var bytes = try Data(contentsOf: data)
        bytes[bytes.count - 3] = UInt8(ascii: "9") == bytes[bytes.count - 3] ? UInt8(ascii: "8") : UInt8(ascii: "9")
        try bytes.write(to: data)
        #expect { try Snapshot.open(directory: path) } throws: { e in
            (e as? FeatureError)?.code == .checksumMismatch && "\(e)".contains("sha256") && "\(e)".contains("data.csv")
        }
    }

    @Test func truncatedFileIsRefused() throws {
        let dir = try TestSupport.temporaryDirectory()
        let path = try writeThings(in: dir, version: "v1", tag: 1)
        let data = URL(fileURLWithPath: path).appendingPathComponent("data.csv")
        let bytes = try Data(contentsOf: data)
        try bytes.prefix(bytes.count / 2).write(to: data)
        #expect { try Snapshot.open(directory: path) } throws: { e in
            (e as? FeatureError)?.code == .checksumMismatch && "\(e)".contains("truncated")
        }
    }

    @Test func unknownFieldAndBadManifestAreRefused() throws {
        let dir = try TestSupport.temporaryDirectory()
        let path = dir.appendingPathComponent("x").path
        try Snapshot.write(directory: path, set: "things", version: "v1", fields: ["a", "zzz"], rows: [(id: "1", values: ["1", "2"])])
        #expect { try Snapshot.open(directory: path, definition: testDefinition) } throws: { "\($0)".contains("zzz") }
        let m = URL(fileURLWithPath: path).appendingPathComponent("manifest.json")
        try Data("{\"set\": \"things\"}".utf8).write(to: m)
        #expect { try Snapshot.open(directory: path) } throws: { "\($0)".contains("manifest.json") }
    }
}

@Suite struct FeatureCacheTests {
    @Test func boundedWithTTLAndCounters() {
        let cache = FeatureCache(capacity: 16, shards: 1)
        let t0 = ContinuousClock.now
        for i in 0..<40 {
            cache.put(set: "s", version: "v1", row: FeatureRow(id: "\(i)", values: [:], found: true), ttl: .seconds(1), now: t0)
        }
        #expect(cache.count <= 16)
        #expect(cache.get(set: "s", version: "v1", id: "39", now: t0) != nil)
        #expect(cache.get(set: "s", version: "v2", id: "39", now: t0) == nil)
        #expect(cache.get(set: "s", version: "v1", id: "39", now: t0 + .seconds(2)) == nil)
        #expect(cache.hits.load(ordering: .relaxed) == 1)
        #expect(cache.misses.load(ordering: .relaxed) == 2)
    }

    @Test func concurrentReadersAndWriters() async {
        let cache = FeatureCache(capacity: 1000)
        await withTaskGroup(of: Void.self) { g in
            for t in 0..<8 {
                g.addTask {
                    for i in 0..<2000 {
                        let id = "\((i * 7 + t) % 1500)"
                        if cache.get(set: "s", version: "v", id: id) == nil {
                            cache.put(set: "s", version: "v", row: FeatureRow(id: id, values: ["x": .int(i)], found: true), ttl: .seconds(10))
                        }
                    }
                }
            }
        }
        #expect(cache.count <= 1000)
        #expect(cache.hits.load(ordering: .relaxed) + cache.misses.load(ordering: .relaxed) == 16000)
    }
}

@Suite struct EmbeddedFeatureStoreTests {
    @Test func servesTheShippedSnapshots() async throws {
        let store = try EmbeddedFeatureStore(
            snapshotsDirectory: TestSupport.packageRoot.appendingPathComponent("features/snapshots").path,
            definitions: shippedDefinitions())
        let (u, i) = await store.read(user: "u0", userSet: "user_profile", items: ["14", "999"], itemSet: "item_catalog")
        #expect(u.version == "v1" && !u.degraded)
        #expect(u.rows[0].values["user_feature_0"] == .string("cef3390ed299c09874189c387777674a"))
        #expect(i.rows[0].found && !i.rows[1].found)
        #expect(i.rows[1].values["item_feature_0"] == .float(0))
        let catalog = await store.entityIDs(set: "item_catalog")
        #expect(catalog.ids.count == 34 && catalog.ids.first == "0")
        #expect(await store.currentVersions() == ["user_profile": "v1", "item_catalog": "v1"])
    }

    @Test func latestVersionWhenNoCurrentFile() throws {
        let dir = try TestSupport.temporaryDirectory()
        let setDir = dir.appendingPathComponent("things")
        for (v, tag) in [("v9", 9.0), ("v10", 10.0), ("v2", 2.0)] {
            try Snapshot.write(directory: setDir.appendingPathComponent(v).path, set: "things", version: v, fields: ["a"], rows: [(id: "x", values: [String(tag)])])
        }
        #expect(try EmbeddedFeatureStore.currentVersion(setDirectory: setDir.path) == "v10")
        try Data("v2\n".utf8).write(to: setDir.appendingPathComponent("current"))
        let store = try EmbeddedFeatureStore(snapshotsDirectory: dir.path, definitions: [testDefinition])
        let r = store.readNow(set: "things", ids: ["x"])
        #expect(r.version == "v2" && r.rows[0].values["a"] == .float(2) && r.rows[0].values["b"] == .string("none"))
    }
}
