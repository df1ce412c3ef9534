import DuetEvaluation
import Foundation
import Testing

/// The users filter behind the SRM counts: each user once, saved and restored bit for bit, and a
/// filling filter thins both arms alike (the χ² test keeps its level) at the documented rate.
@Suite struct SeenUsersTests {
    @Test func aUserCountsOnceAndTheBitsRoundTrip() throws {
        var seen = SeenUsers()
        let first = seen.insert("u1"), repeated = seen.insert("u1"), second = seen.insert("u2")
        #expect(first && !repeated && second)
        var again2 = 0
        for _ in 0..<100 where seen.insert("u2") { again2 += 1 }
        #expect(again2 == 0)
        #expect(seen.count == 2)
        let restored = try #require(SeenUsers(bytes: seen.bytes, count: seen.count))
        #expect(restored == seen)
        var again = restored
        let old = again.insert("u1"), new = again.insert("u3")
        #expect(!old && new)
        #expect(SeenUsers(bytes: [1, 2, 3], count: 1) == nil)
    }

    /// 600,000 users split 50/50 by an independent hash: the filter drops about the documented share
    /// of new users (at 600,000: 20% of the last ones), and the two arms' counts still pass the χ²
    /// test against 50/50 — the drops do not depend on the arm.
    @Test func fillingThinsBothArmsAlike() {
        var seen = SeenUsers()
        var counted = [0, 0], offered = [0, 0]
        let n = 600_000
        for i in 0..<n {
            let user = "user-\(i)"
            var h: UInt32 = 2_166_136_261  // FNV-1a 32, as GrowthBook's router: not the filter's hash
            for b in "seed\(user)".utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
            let arm = Int(h % 2)
            offered[arm] += 1
            if seen.insert(user) { counted[arm] += 1 }
        }
        // Expected uncounted: Σ over arrivals of the drop rate at that fill (integrated in 1,000 steps).
        var expectedDropped = 0.0
        for step in 0..<1000 { expectedDropped += SeenUsers.dropRate(afterUsers: step * n / 1000) * Double(n / 1000) }
        let dropped = Double(n - counted[0] - counted[1])
        #expect(abs(dropped - expectedDropped) < 0.1 * expectedDropped, "dropped \(dropped), expected ≈ \(expectedDropped)")
        // Both arms thinned alike: the share counted is the same within sampling error.
        let share = counted.indices.map { Double(counted[$0]) / Double(offered[$0]) }
        let pooled = Double(counted[0] + counted[1]) / Double(n)
        let se = (pooled * (1 - pooled) * (1 / Double(offered[0]) + 1 / Double(offered[1]))).squareRoot()
        #expect(abs(share[0] - share[1]) < 4 * se, "counted shares \(share)")
    }
}
