@testable import DuetServer
import Testing

@Suite struct ImpressionStoreTests {
    @Test func findsUntilTheTTLThenSaysExpired() {
        let store = ImpressionStore<Int>(capacity: 100, ttl: .seconds(10), shards: 1)
        let t0 = ContinuousClock.now
        store.insert("a", 1, now: t0)
        guard case .found(1) = store.lookup("a", now: t0 + .seconds(5)) else { Issue.record("not found"); return }
        guard case .expired = store.lookup("a", now: t0 + .seconds(11)) else { Issue.record("not expired"); return }
        guard case .unknown = store.lookup("b", now: t0) else { Issue.record("not unknown"); return }
    }

    @Test func staysWithinCapacityDroppingTheOldest() {
        let store = ImpressionStore<Int>(capacity: 10, ttl: .seconds(60), shards: 1)
        for i in 0..<25 { store.insert("r\(i)", i) }
        #expect(store.count == 10)
        guard case .expired = store.lookup("r0") else { Issue.record("r0 should be gone"); return }
        guard case .found(24) = store.lookup("r24") else { Issue.record("r24 missing"); return }
    }

    @Test func concurrentInsertsAndLookupsAgree() async {
        let store = ImpressionStore<Int>(capacity: 100_000, ttl: .seconds(60))
        await withTaskGroup(of: Void.self) { group in
            for t in 0..<8 {
                group.addTask {
                    for i in 0..<2000 {
                        store.insert("t\(t)-\(i)", i)
                        if case .found(let v) = store.lookup("t\(t)-\(i)") { #expect(v == i) } else { Issue.record("lost") }
                    }
                }
            }
        }
        #expect(store.count == 16_000)
    }
}
