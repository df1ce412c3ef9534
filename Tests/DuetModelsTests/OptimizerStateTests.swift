@testable import DuetModels
import DuetTestSupport
import Foundation
import Testing

/// The optimizer state (AdaGrad sums, FTRL n and z) travels with a model file, so a learner that
/// continues from a file takes the steps the writer had reached, not a new model's.
@Suite struct OptimizerStateTests {
    static func config(_ optimizer: ModelConfig.Optimizer) -> ModelConfig {
        var c = ModelConfig()
        c.bits = 10
        c.k = 3
        c.optimizer = optimizer
        return c
    }

    /// A deterministic stream over a few users and items, ~20% positive.
    static func examples(_ n: Int, config: ModelConfig, from start: Int = 0) -> [([Feature], Double)] {
        let h = config.hasher
        return (start..<(start + n)).map { i in
            let features = h.hash([
                NamedFeature("user", .string("u\(i % 13)")), NamedFeature("item", .string("i\(i % 7)")), NamedFeature("x", .number(Double(i % 5) / 5)),
            ])
            return (features, (i % 13 + i % 7) % 5 == 0 ? 1 : 0)
        }
    }

    @Test(arguments: ModelConfig.Optimizer.allCases)
    func roundTripKeepsTheState(_ optimizer: ModelConfig.Optimizer) throws {
        let c = Self.config(optimizer)
        var learner = Learner(config: c)
        for (f, y) in Self.examples(500, config: c) { learner.learn(f, label: y) }
        let v = learner.publish(id: "m1", parentID: nil, kind: .static)
        let path = try TestSupport.temporaryDirectory("optstate").appendingPathComponent("m1.duet").path
        try ModelFile.write(v, optimizerState: learner.optimizerState, to: path)

        let (r, state) = try ModelFile.readWithOptimizerState(path: path)
        #expect(state == learner.optimizerState)
        #expect(state?.z.count == (optimizer == .ftrl ? c.size : 0))
        #expect(r.weights.flattened() == v.weights.flattened() && r.factors.flattened() == v.factors.flattened())
        // The state grows the file by 24 bytes and 4 per value (the weights' size again, plus z under
        // FTRL) and the header by its two fields (about 60 bytes).
        let withoutState = try ModelFile.encode(v)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        let section = 24 + 4 * (c.size + c.size * c.k + (optimizer == .ftrl ? c.size : 0))
        #expect((50...70).contains(size - withoutState.count - section))
        // Reading for serving verifies the section and drops it; the version is the same.
        #expect(try ModelFile.read(path: path).weights.flattened() == v.weights.flattened())
    }

    @Test func aFileWithoutStateStillReads() throws {
        let c = Self.config(.adagrad)
        var learner = Learner(config: c)
        for (f, y) in Self.examples(100, config: c) { learner.learn(f, label: y) }
        let bytes = try ModelFile.encode(learner.publish(id: "old", parentID: nil, kind: .static))
        #expect(bytes[8] == 1)  // format version 1, as every file before the state
        let (v, state) = try ModelFile.decodeWithOptimizerState(bytes)
        #expect(v.id == "old" && state == nil)
        #expect(try ModelFile.encode(v, optimizerState: learner.optimizerState)[8] == 2)
    }

    @Test func aStateOfAnotherShapeIsNotWritten() throws {
        let c = Self.config(.adagrad)
        var learner = Learner(config: c)
        let v = learner.publish(id: "m", parentID: nil, kind: .static)
        #expect(throws: ModelFileError.self) { try ModelFile.encode(v, optimizerState: OptimizerState(fresh: Self.config(.ftrl))) }
        var smaller = c
        smaller.bits = 9
        #expect(throws: ModelFileError.self) { try ModelFile.encode(v, optimizerState: OptimizerState(fresh: smaller)) }
    }

    /// Stopping, writing the file, and continuing from it learns exactly what never stopping learns:
    /// the same weights, bit for bit, for both optimizers (FTRL's z is restored, not re-derived).
    @Test(arguments: ModelConfig.Optimizer.allCases)
    func continuingFromTheFileIsNeverHavingStopped(_ optimizer: ModelConfig.Optimizer) throws {
        let c = Self.config(optimizer)
        let first = Self.examples(300, config: c), second = Self.examples(300, config: c, from: 300)
        var straight = Learner(config: c)
        for (f, y) in first { straight.learn(f, label: y) }
        let bytes = try ModelFile.encode(straight.publish(id: "half", parentID: nil, kind: .static), optimizerState: straight.optimizerState)
        for (f, y) in second { straight.learn(f, label: y) }

        let (half, state) = try ModelFile.decodeWithOptimizerState(bytes)
        var resumed = Learner(start: half, optimizerState: state)
        #expect(resumed.hasSavedOptimizerState)
        var fresh = Learner(start: half)
        #expect(!fresh.hasSavedOptimizerState)
        for (f, y) in second {
            resumed.learn(f, label: y)
            fresh.learn(f, label: y)
        }
        #expect(resumed.w == straight.w && resumed.v == straight.v && resumed.optimizerState == straight.optimizerState)
        #expect(fresh.w != straight.w)

        // A rollback to `half` with its saved state continues the same way.
        var rolledBack = straight
        rolledBack.reset(to: half, optimizerState: state)
        for (f, y) in second { rolledBack.learn(f, label: y) }
        #expect(rolledBack.w == straight.w && rolledBack.v == straight.v)
    }

    /// A reset without a saved state keeps the learner's own accumulators (never below the target
    /// version's: they only grow), so its steps stay small; FTRL's z follows the new weights.
    @Test(arguments: ModelConfig.Optimizer.allCases)
    func aResetWithoutStateKeepsTheLearnersAccumulators(_ optimizer: ModelConfig.Optimizer) {
        let c = Self.config(optimizer)
        var learner = Learner(config: c)
        for (f, y) in Self.examples(200, config: c) { learner.learn(f, label: y) }
        let early = learner.publish(id: "early", parentID: nil, kind: .online)
        let earlyState = learner.optimizerState
        for (f, y) in Self.examples(200, config: c, from: 200) { learner.learn(f, label: y) }
        let before = learner.optimizerState
        learner.reset(to: early)
        #expect(learner.w == early.weights.flattened())
        #expect(learner.gw == before.linear && learner.gv == before.factors)
        #expect(zip(learner.gw, earlyState.linear).allSatisfy { $0 >= $1 })
        if optimizer == .ftrl {
            // w(z, n) gives back the weights just set.
            for i in learner.w.indices where learner.w[i] != 0 {
                let w = OptimizerState.ftrlWeight(z: learner.z[i], n: learner.gw[i], alpha: c.learningRate, beta: c.ftrlBeta, l1: c.l1, l2: c.l2)
                #expect(abs(w - learner.w[i]) <= 1e-5 * max(1, abs(w)))
            }
        }
    }
}
