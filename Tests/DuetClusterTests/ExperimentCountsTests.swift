import DuetCluster
import DuetEvaluation
import DuetRedis
import DuetTestSupport
import Testing

/// The shared distinct-user count on a real Redis: one BITFIELD per batch of users, then the count.
@Suite struct ExperimentCountsTests {
    @Test func aBatchCountsEachUserOnceInItsArmWhicheverReplicaSentIt() throws {
        let redis = try RedisServer.start()
        defer { redis.stop() }
        let connection = try RedisConnection(url: RedisURL(parsing: redis.url))
        let counts = ExperimentCounts(keys: try ClusterKeys(name: "t"))
        /// What a replica's copy thread does with a batch: set the bits, then count the new users.
        func send(_ users: [(Int, String)]) throws {
            var encoder = RESPEncoder()
            counts.markSeen(key: "home", revision: 2, bits: users.map { SeenUsers.bits($0.1) }, into: &encoder)
            var new: [Bool] = []
            try connection.pipeline(encoded: &encoder) { _, reply in
                new = try #require(ExperimentCounts.newUsers(reply, probes: SeenUsers.probes), "\(reply)")
            }
            #expect(new.count == users.count)
            var perArm: [Int: Int] = [:]
            for (u, isNew) in zip(users, new) where isNew { perArm[u.0, default: 0] += 1 }
            var counting = RESPEncoder()
            counts.count(key: "home", revision: 2, newUsersPerArm: perArm, into: &counting)
            try connection.pipeline(encoded: &counting) { _, reply in
                if case .error(let e) = reply { Issue.record("HINCRBY: \(e)") }
            }
        }
        // One replica's batch, a user twice in it; then another replica's, with users the first had.
        try send([(0, "a"), (1, "b"), (0, "c"), (0, "a")])
        try send([(0, "a"), (1, "d"), (1, "b"), (1, "e")])
        let read = try counts.read(key: "home", revision: 2, connection)
        #expect(read.users == [0: 2, 1: 3], "\(read.users)")
        // Another revision counts from zero.
        #expect(try counts.read(key: "home", revision: 3, connection).users.isEmpty)
    }
}
