import DuetModels
import Foundation

// Micro-benchmarks of the model path (release build): scoring 100 and 1000 candidates × 40 features,
// one SGD update, publishing a version of 2^20 weights, and the in-memory rollback swap. Medians.

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

func median(_ runs: Int, _ body: () -> Double) -> Double {
    var xs = (0..<runs).map { _ in body() }
    xs.sort()
    return xs[runs / 2]
}

var config = ModelConfig()
config.bits = 20
config.k = 4
let hasher = config.hasher
var learner = Learner(config: config)

func example(_ n: Int) -> [Feature] {
    hasher.hash((0..<n).map { NamedFeature("f\($0)", .string("\(UInt32.random(in: 0..<1000))")) })
}
for _ in 0..<20_000 { learner.learn(example(40), label: Bool.random() ? 1 : 0) }
let version = learner.publish(id: "1", parentID: nil, kind: .online)

// Scoring: 10 user features + 30 per candidate = 40 features per (user, candidate).
let user = example(10)
for n in [100, 1000] {
    let candidates = CandidateFeatures((0..<n).map { _ in example(30) })
    var scratch = ScoringScratch()
    var scores: [Float] = []
    version.score(user: user, candidates: candidates, scratch: &scratch, into: &scores)
    let m = median(31) {
        let reps = max(1, 20_000 / n)
        let t = ContinuousClock.now
        for _ in 0..<reps { version.score(user: user, candidates: candidates, scratch: &scratch, into: &scores) }
        return seconds(ContinuousClock.now - t) / Double(reps)
    }
    print(String(format: "score %4d candidates × 40 features: %8.2f µs (median of 31)", n, m * 1e6))
}

// One SGD update (40 features, k = 4).
let examples = (0..<10_000).map { _ in example(40) }
let update = median(11) {
    let t = ContinuousClock.now
    for e in examples { learner.learn(e, label: Bool.random() ? 1 : 0) }
    return seconds(ContinuousClock.now - t) / Double(examples.count)
}
print(String(format: "one SGD update (40 features, k=4): %8.3f µs → %.0f updates/s", update * 1e6, 1 / update))

// Publishing a version of 2^20 weights (+ 4·2^20 factors) after 1000 updates (pages copied: changed ones).
var id = 2
let publish = median(11) {
    for e in examples.prefix(1000) { learner.learn(e, label: 0) }
    let t = ContinuousClock.now
    _ = learner.publish(id: String(id), parentID: nil, kind: .online)
    id += 1
    return seconds(ContinuousClock.now - t)
}
print(String(format: "publish a version of 2^20 weights after 1000 updates: %8.3f ms", publish * 1e3))

// Rollback: the in-memory swap.
let slot = ModelSlot(name: "online")
for i in 0..<16 { slot.publish(learner.publish(id: "v\(i)", parentID: nil, kind: .online)) }
let swap = median(101) {
    let s = try! slot.rollback(to: "v\(Int.random(in: 0..<15))")
    return seconds(s.duration)
}
let promoteAll = median(11) {
    let t = ContinuousClock.now
    for i in 0..<1000 { _ = try! slot.promote("v\(i % 16)") }
    return seconds(ContinuousClock.now - t) / 1000
}
print(String(format: "rollback swap (the atomic store): %6.0f ns; whole promote call incl. lookup and lock: %6.0f ns", swap * 1e9, promoteAll * 1e9))
