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

    @Test func repeatedCandidatesAreShownOnce() {
        // "a" twice with the best score: shown once, then the next best distinct ids.
        let ids = ["a", "b", "a", "c", "b"], scores: [Float] = [0.9, 0.5, 0.9, 0.7, 0.5]
        #expect(RecommendService.distinctTopK(scores, 3, ids: ids).map { ids[$0] } == ["a", "c", "b"])
        #expect(RecommendService.distinctTopK(scores, 5, ids: ids).map { ids[$0] } == ["a", "c", "b"])
        #expect(RecommendService.distinctTopK([0.1, 0.2], 2, ids: ["x", "y"]) == [1, 0])
        let many = (0..<40).map { "i\($0 % 30)" }
        let top = RecommendService.distinctTopK((0..<40).map { Float($0) }, 35, ids: many)
        #expect(Set(top.map { many[$0] }).count == top.count && top.count == 30)
    }

    @Test func aChoiceNeedsAnotherDistinctCandidate() {
        // Equal to counting the distinct ids, for small and large slates, with and without repeats.
        func counted(_ ids: [String], _ shown: [Int]) -> Bool { Set(ids).count > shown.count }
        let cases: [([String], [Int])] = [
            (["a", "b"], [0, 1]), (["a", "b", "c"], [2, 0]), (["a", "a", "b"], [0, 2]), (["a", "a", "a"], [1]),
            (["a", "b", "a", "b"], [0]), (["x"], [0]),
        ]
        for (ids, shown) in cases {
            #expect(ServedChoice.hadAChoice(ids: ids, shown: shown, distinct: false) == counted(ids, shown), "\(ids) \(shown)")
        }
        let many = (0..<60).map { "i\($0 % 20)" }
        #expect(!ServedChoice.hadAChoice(ids: many, shown: Array(0..<20), distinct: false))
        #expect(ServedChoice.hadAChoice(ids: many, shown: Array(0..<19), distinct: false))
        #expect(ServedChoice.hadAChoice(ids: many, shown: Array(1..<19), distinct: false))
        // The whole catalog is distinct: more ids than shown is a choice.
        #expect(ServedChoice.hadAChoice(ids: ["a", "b"], shown: [1], distinct: true))
        #expect(!ServedChoice.hadAChoice(ids: ["a", "b"], shown: [1, 0], distinct: true))
    }
}
