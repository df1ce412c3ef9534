@testable import DuetServer
import Testing

@Suite struct RecommendServiceTests {
    @Test func topKIsTheSortedPrefix() {
        var g = SystemRandomNumberGenerator()
        for n in [1, 5, 100, 1000] {
            let scores = (0..<n).map { _ in Float(Int.random(in: 0..<50, using: &g)) / 50 }
            for k in [1, 3, 10, n] where k <= n {
                let expected = Array(scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }.prefix(k))
                #expect(RecommendService.topK(scores, k) == expected)
            }
        }
    }
}
