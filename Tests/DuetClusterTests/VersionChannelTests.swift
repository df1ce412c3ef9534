import DuetCluster
import DuetRedis
import DuetTestSupport
import Testing

/// Version publication on a real Redis: a snapshot larger than one staging chunk arrives whole, and
/// a trainer that lost the lease changes nothing.
@Suite struct VersionChannelTests {
    @Test func aStagedSnapshotIsPublishedWholeAndAFencedOneIsNot() throws {
        let redis = try RedisServer.start()
        defer { redis.stop() }
        let connection = try RedisConnection(url: RedisURL(parsing: redis.url))
        let keys = try ClusterKeys(name: "t")
        let channel = VersionChannel(keys: keys)
        let lease = TrainerLease(keys: keys, replica: "a", ttl: .seconds(5))
        let held = try #require(try lease.acquire(connection))
        // 2.5 MiB of bytes: three staging chunks of base64.
        let snapshot = (0..<(5 << 19)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        // What a failed attempt left staged, longer than this snapshot, does not survive into it.
        _ = try connection.command(["SET", keys.name(for: "snapshot-staged:\(held.token)"), String(repeating: "x", count: 4 << 20)])
        let entry = try channel.publish(kind: .snapshot, id: "7", parent: "", position: "0-0", bytes: snapshot, lease: held, reason: "first", connection)
        #expect(try channel.snapshot(connection) == snapshot)
        let head = try #require(try channel.head(connection))
        #expect(head.id == "7" && head.snapshot == "7" && head.snapshotEntry == entry)
        #expect(try connection.command(["PTTL", keys.snapshot]).integer == -1, "the snapshot has no TTL")
        #expect(try connection.command(["KEYS", keys.name(for: "snapshot-staged:*")]).array.isEmpty, "nothing left staged")

        // Another trainer took the lease: the old one's snapshot is refused and the head stays.
        try lease.release(held, connection)
        let other = try #require(try TrainerLease(keys: keys, replica: "b", ttl: .seconds(5)).acquire(connection))
        #expect(other.token > held.token)
        #expect(throws: ClusterError.self) {
            try channel.publish(kind: .snapshot, id: "8", parent: "", position: "0-0", bytes: [1, 2, 3], lease: held, reason: "late", connection)
        }
        #expect(try channel.snapshot(connection) == snapshot)
        #expect(try channel.head(connection)?.id == "7")
    }
}
