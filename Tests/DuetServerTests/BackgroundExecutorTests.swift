@testable import DuetServer
import Foundation
import Testing

/// The background threads: what runs there, and that everything sent there finishes.
@Suite struct BackgroundExecutorTests {
    struct Refused: Error, Equatable {}

    @Test func runDoesItsWorkOnTheExecutorsThreadsAndRethrows() async throws {
        let executor = BackgroundExecutor(name: "duet-test-bg", threads: 2)
        #expect(await executor.run { executor.isCurrent })
        #expect(!executor.isCurrent)
        await #expect(throws: Refused.self) { try await executor.run { throw Refused() } }
    }

    @Test func aPreferenceCoversTheTasksChildrenAndEveryJobFinishes() async throws {
        let executor = BackgroundExecutor(name: "duet-test-tree", threads: 2)
        let here = await withTaskExecutorPreference(executor) {
            await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<200 { group.addTask { executor.isCurrent } }
                var all: [Bool] = []
                for await n in group { all.append(n) }
                return all
            }
        }
        #expect(here.count == 200)
        #expect(here.allSatisfy { $0 })
        // Both threads serve the queue (200 jobs on one would not fail, but two are there to take them).
        let sum = await withTaskGroup(of: Int.self) { group in
            for i in 0..<1000 { group.addTask { await executor.run { i } } }
            return await group.reduce(0, +)
        }
        #expect(sum == 999 * 1000 / 2)
    }
}
