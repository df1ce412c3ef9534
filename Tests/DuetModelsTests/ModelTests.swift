@testable import DuetModels
import DuetTestSupport
import Foundation
import Testing

@Suite struct FeatureHashingTests {
    @Test func murmur3MatchesReferenceValues() {
        // Reference values of MurmurHash3_x86_32 (seed 0).
        #expect(FeatureHasher.murmur3(Array("".utf8)) == 0)
        #expect(FeatureHasher.murmur3(Array("hello".utf8)) == 0x248b_fa47)
        #expect(FeatureHasher.murmur3(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x2e4f_f723)
    }

    @Test func categoricalAndNumericFeatures() {
        let h = FeatureHasher(bits: 18)
        let f = h.hash([NamedFeature("genre", .string("Comedy")), NamedFeature("age", .number(0.37))])
        #expect(f.count == 2)
        #expect(f[0].index == FeatureHasher.murmur3(Array("genre=Comedy".utf8)) & h.mask && f[0].value == 1)
        #expect(f[1].index == FeatureHasher.murmur3(Array("age".utf8)) & h.mask && f[1].value == Float(0.37))
        #expect(f.allSatisfy { $0.index < 1 << 18 })
    }

    @Test func interactionsCrossFieldsAndSplitHashingAgrees() {
        let h = FeatureHasher(bits: 20, interactions: [("user_feature_0", "item_id")])
        let user = [NamedFeature("user_feature_0", .string("a")), NamedFeature("position", .string("1"))]
        let item = [NamedFeature("item_id", .string("7")), NamedFeature("affinity", .number(2))]
        let all = h.hash(user + item)
        #expect(all.count == 5)
        // Serving hashes the user part once and each item apart, then crosses: same features.
        let u = h.hash(user)
        var i = h.hash(item)
        h.crossed(user: user, userHashed: u, item: item, itemHashed: i, into: &i)
        #expect(Set(all.map(\.index)) == Set((u + i).map(\.index)))
    }
}

@Suite struct ModelMathTests {
    /// A tiny model with hand-set weights: 4 slots, k = 2.
    func model(w: [Float], v: [Float], positives: Double, seen: Double, shrinkage: Double = 0) -> ModelVersion {
        var c = ModelConfig()
        c.bits = 2
        c.k = 2
        c.priorPositives = 0
        c.priorNegatives = 0
        c.shrinkage = shrinkage
        return ModelVersion(id: "t", parentID: nil, kind: .static, examples: 0, metrics: .init(), config: c,
                            positives: positives, seen: seen, weights: WeightPages(w), factors: WeightPages(v))
    }

    @Test func factorizationMachineScoreByHand() {
        // bias = logit(0.5) = 0; w = [0.1, -0.2, 0.3, 0]; v0 = (1, 0), v1 = (0.5, 2), v2 = (-1, 1).
        let m = model(w: [0.1, -0.2, 0.3, 0], v: [1, 0, 0.5, 2, -1, 1, 0, 0], positives: 1, seen: 2)
        let x = [Feature(index: 0, value: 1), Feature(index: 1, value: 2), Feature(index: 2, value: 1)]
        // linear: 0.1 − 0.4 + 0.3 = 0; pairs: <v0,v1>·2 + <v0,v2>·1 + <v1,v2>·2 = 1 − 1 + 3 = 3.
        #expect(abs(m.margin(x) - 3) < 1e-5)
        #expect(abs(m.predict(x) - 1 / (1 + exp(-3))) < 1e-6)
    }

    @Test func shrinkageScalesTheFeaturePartWhileOneLabelIsRare() {
        // 1 positive of 2 seen: m = 1, scale = 1 / (1 + 100); the margin's feature part 3 becomes 3/101.
        let m = model(w: [0.1, -0.2, 0.3, 0], v: [1, 0, 0.5, 2, -1, 1, 0, 0], positives: 1, seen: 2, shrinkage: 100)
        let x = [Feature(index: 0, value: 1), Feature(index: 1, value: 2), Feature(index: 2, value: 1)]
        #expect(abs(m.margin(x) - 3.0 / 101) < 1e-6)
    }

    @Test func batchScoringEqualsOneByOne() {
        let m = model(w: [0.1, -0.2, 0.3, 0.05], v: [1, 0, 0.5, 2, -1, 1, 0.3, -0.2], positives: 3, seen: 10, shrinkage: 100)
        let user = [Feature(index: 0, value: 1)]
        let candidates = [[Feature(index: 1, value: 1)], [Feature(index: 2, value: 0.5), Feature(index: 3, value: 1)], []]
        var scratch = ScoringScratch(), scores: [Float] = []
        m.score(user: user, candidates: candidates, scratch: &scratch, into: &scores)
        for (c, s) in zip(candidates, scores) {
            #expect(abs(Double(s) - m.predict(user + c)) < 1e-6)
        }
    }

    @Test func scoringFromItemPartsEqualsScoringWholeCandidates() {
        var c = ModelConfig()
        c.bits = 6
        c.k = 3
        c.priorPositives = 0
        c.priorNegatives = 0
        var rng = SystemRandomNumberGenerator()
        let w = (0..<64).map { _ in Float.random(in: -1...1, using: &rng) }
        let v = (0..<(64 * 3)).map { _ in Float.random(in: -1...1, using: &rng) }
        let m = ModelVersion(id: "t", parentID: nil, kind: .static, examples: 0, metrics: .init(), config: c,
                             positives: 3, seen: 10, weights: WeightPages(w), factors: WeightPages(v))
        func features(_ n: Int) -> [Feature] {
            (0..<n).map { _ in Feature(index: UInt32.random(in: 0..<64, using: &rng), value: Float.random(in: -2...2, using: &rng)) }
        }
        let user = features(5)
        let own = (0..<20).map { features($0 % 4) }
        let extra = (0..<20).map { features($0 % 3) }
        var extras = CandidateFeatures()
        for e in extra { extras.append(contentsOf: e); extras.close() }
        var scratch = ScoringScratch(), scores: [Float] = [], whole: [Float] = []
        m.score(user: user, parts: own.flatMap { m.itemParts($0) }, extras: extras, scratch: &scratch, into: &scores)
        m.score(user: user, candidates: zip(own, extra).map { $0 + $1 }, scratch: &scratch, into: &whole)
        #expect(scores.count == 20)
        for i in 0..<20 {
            #expect(abs(Double(scores[i]) - m.predict(user + own[i] + extra[i])) < 1e-5, "candidate \(i)")
            #expect(abs(scores[i] - whole[i]) < 1e-5, "candidate \(i)")
        }
        // Parts belong to one instance: a renamed copy (same weights, same id even) is another version.
        #expect(m.renamed(id: "t", parentID: nil).serial != m.serial)
    }

    @Test func adagradStepByHand() throws {
        var c = ModelConfig()
        c.bits = 2; c.k = 0; c.l2 = 0; c.learningRate = 0.5; c.priorPositives = 0.5; c.priorNegatives = 0.5
        var learner = Learner(config: c)
        // bias = logit(0.5) = 0, w = 0 → p = 0.5; label 1 → g = −0.5 on x = 2 → gi = −1;
        // accumulator 1 + 1 = 2 → w = 0.5 · 1 / √2.
        let r = learner.learn([Feature(index: 1, value: 2)], label: 1)
        #expect(try r.get() == 0.5)
        #expect(abs(learner.w[1] - 0.5 / Float(2).squareRoot()) < 1e-6)
        #expect(learner.w[0] == 0 && learner.positives == 1 && learner.seen == 1)
    }

    @Test func ftrlStepByHand() {
        var c = ModelConfig()
        c.bits = 2; c.k = 0; c.optimizer = .ftrl; c.learningRate = 1; c.ftrlBeta = 1; c.l1 = 0.1; c.l2 = 0
        var learner = Learner(config: c)
        // g = −0.5·1: σ = (√0.25 − 0)/1 = 0.5, z = −0.5 − 0.5·0 = −0.5, n = 0.25;
        // w = −(z − sign(z)·l1) / ((β + √n)/α + l2) = −(−0.5 + 0.1)/1.5 = 0.2667.
        learner.learn([Feature(index: 3, value: 1)], label: 1)
        #expect(abs(learner.w[3] - 0.4 / 1.5) < 1e-6)
        // |z| ≤ l1 keeps a weight at exactly 0.
        var tiny = Learner(config: c)
        tiny.learn([Feature(index: 2, value: 0.1)], label: 1)
        #expect(tiny.w[2] == 0)
    }

    /// A warm start (or a resumed checkpoint) under FTRL keeps the weights it starts from: an update
    /// moves a weight by one step, it does not recompute it from an empty z.
    @Test func ftrlWarmStartKeepsTheStartingWeights() {
        var c = ModelConfig()
        c.bits = 4; c.k = 0; c.optimizer = .ftrl; c.learningRate = 0.1; c.l1 = 0.01; c.l2 = 0
        var trained = Learner(config: c)
        for i in 0..<200 { trained.learn([Feature(index: 3, value: 1), Feature(index: UInt32(5 + i % 2), value: 1)], label: i % 2 == 0 ? 1 : 0) }
        let start = trained.publish(id: "s", parentID: nil, kind: .static)
        let w5 = start.weights[5]
        #expect(w5 > 0.2, "w5 \(w5)")
        var warm = Learner(start: start)
        warm.learn([Feature(index: 5, value: 1)], label: 1)
        // One small step up (the label agrees with the weight), not a recomputation from an empty z.
        #expect(warm.w[5] >= w5 && warm.w[5] - w5 < 0.05 * w5, "w5 \(w5) → \(warm.w[5])")
        #expect(warm.w[3] == start.weights[3] && warm.w[6] == start.weights[6])
    }

    @Test(arguments: [Float.nan, .infinity, -.infinity, 1e30])
    func nonFiniteOrAbsurdInputsChangeNothing(_ bad: Float) {
        var learner = Learner(config: { var c = ModelConfig(); c.bits = 10; return c }())
        learner.learn([Feature(index: 5, value: 1), Feature(index: 9, value: 0.5)], label: 1)
        let w = learner.w, v = learner.v, seen = learner.seen
        #expect(throws: RejectionReason.self) { try learner.learn([Feature(index: 5, value: bad)], label: 1).get() }
        #expect(throws: RejectionReason.self) { try learner.learn([Feature(index: 5, value: 1)], label: Double(bad)).get() }
        #expect(throws: RejectionReason.self) { try learner.learn([Feature(index: 5, value: 1)], label: 1, weight: Double(bad)).get() }
        #expect(learner.w == w && learner.v == v && learner.seen == seen)
        #expect(learner.allFinite)
        #expect(learner.rejections.values.reduce(0, +) == 3)
    }

    @Test func progressiveAUCIsExactOnSeparableScores() {
        var m = ProgressiveMetrics()
        for p in [0.1, 0.2, 0.3] { m.add(p: p, label: 0) }
        for p in [0.7, 0.8] { m.add(p: p, label: 1) }
        #expect(m.auc == 1)
        #expect(m.examples == 5)
    }
}

@Suite struct ModelFileTests {
    func trained() -> ModelVersion {
        var c = ModelConfig()
        c.bits = 12
        var learner = Learner(config: c)
        let h = c.hasher
        for i in 0..<500 {
            learner.learn(h.hash([NamedFeature("u", .string("\(i % 7)")), NamedFeature("x", .number(Double(i % 3)))]), label: i % 5 == 0 ? 1 : 0)
        }
        return learner.publish(id: "m1", parentID: "m0", kind: .static)
    }

    @Test func roundTripKeepsEverything() throws {
        let v = trained()
        let path = try TestSupport.temporaryDirectory("model").appendingPathComponent("m1.duet").path
        try ModelFile.write(v, to: path)
        let r = try ModelFile.read(path: path)
        #expect(r.id == "m1" && r.parentID == "m0" && r.kind == .static && r.config == v.config)
        #expect(r.weights.flattened() == v.weights.flattened() && r.factors.flattened() == v.factors.flattened())
        #expect(r.bias == v.bias && r.examples == v.examples)
    }

    @Test func truncatedOrTamperedFilesAreRefused() throws {
        let bytes = try ModelFile.encode(trained())
        #expect(throws: ModelFileError.self) { try ModelFile.decode(Array(bytes.prefix(bytes.count / 2))) }
        #expect(throws: ModelFileError.self) { try ModelFile.decode(Array(bytes.prefix(20))) }
        var tampered = bytes
        tampered[100] ^= 0x40
        #expect(throws: ModelFileError.self) { try ModelFile.decode(tampered) }
        var badMagic = bytes
        badMagic[0] = 0x58
        #expect(throws: ModelFileError.self) { try ModelFile.decode(badMagic) }
        // A well-formed file (checksum and all) whose weights are not finite: refused too.
        let v = trained()
        var w = v.weights.flattened()
        w[5] = .nan
        let bad = ModelVersion(id: "nan", parentID: nil, kind: .static, examples: 0, metrics: .init(), config: v.config,
                               positives: 1, seen: 2, weights: WeightPages(w), factors: v.factors)
        #expect(throws: ModelFileError.self) { try ModelFile.decode(try ModelFile.encode(bad)) }
        #expect(throws: ModelFileError.self) { try ModelFile.read(path: "/nonexistent/model.duet") }
    }
}

@Suite struct ModelSlotTests {
    /// At one fixed time unless told, so the thinned history (by time) keeps nothing extra.
    func version(_ id: String, weight: Float, at: Date = Date(timeIntervalSince1970: 1_000_000)) -> ModelVersion {
        var c = ModelConfig()
        c.bits = 4
        c.k = 0
        return ModelVersion(id: id, parentID: nil, kind: .online, createdAt: at, examples: 0, metrics: .init(), config: c, positives: 0, seen: 0,
                            weights: WeightPages(Array(repeating: weight, count: 16)), factors: WeightPages([]))
    }

    @Test func aThinnedHistoryReachesEachTierBackWithABoundedNumberOfVersions() throws {
        let slot = ModelSlot(name: "online", capacity: 4)
        let t0 = 1_000_000.0
        var most = 0
        // Two and a half hours of a version every 250 ms.
        for i in 0..<36_000 {
            let now = t0 + Double(i) * 0.25
            slot.publish(version("\(i)", weight: 1, at: Date(timeIntervalSince1970: now)))
            most = max(most, slot.versions.count)
            guard i % 997 == 0 || i == 35_999 else { continue }
            let ages = slot.versions.map { now - $0.createdAt.timeIntervalSince1970 }
            for width in ModelSlot.historyTiers where now - t0 >= 2 * width {
                // A version at least `width` old and under twice that (plus one publish gap).
                #expect(ages.contains { $0 >= width && $0 < 2 * width + 0.25 }, "no version \(width) s back at \(now - t0) s: \(ages)")
            }
        }
        #expect(most <= 4 + ModelSlot.historyTiers.count * 2, "the history kept \(most) versions")
        #expect(slot.historyIDs.count >= 4)
        // Health marks given back at a restart land before the slot thins, so the versions stay.
        let restarted = ModelSlot(name: "online", capacity: 2)
        restarted.publish(version("100", weight: 1, at: Date(timeIntervalSince1970: t0 + 100)))
        restarted.restore((90..<100).map { version("\($0)", weight: 1, at: Date(timeIntervalSince1970: t0 + 100)) }, healthy: ["91", "93", "missing"])
        #expect(restarted.healthyIDs == ["91", "93"])
        #expect(restarted.versions.map(\.id) == ["91", "93", "99", "100"])
    }

    @Test func rollbackAndPromoteSwapTheCurrentVersion() throws {
        let slot = ModelSlot(name: "online", capacity: 3)
        #expect(throws: SlotError.self) { try slot.rollback() }
        for i in 1...4 { slot.publish(version("\(i)", weight: Float(i))) }
        #expect(slot.current?.id == "4" && slot.versions.map(\.id) == ["2", "3", "4"])
        let swap = try slot.rollback()
        #expect(swap.from.id == "4" && swap.to.id == "3" && slot.current?.id == "3")
        try slot.rollback(to: "2")
        #expect(slot.current?.id == "2")
        #expect(throws: SlotError.self) { try slot.rollback() }
        try slot.promote("4")
        #expect(slot.current?.id == "4")
        #expect(throws: SlotError.self) { try slot.promote("1") }
    }

    @Test func pinnedVersionsStayBeyondCapacityAndRestoredOnesGoFirst() throws {
        let slot = ModelSlot(name: "online", capacity: 2)
        for i in 1...2 { slot.publish(version("\(i)", weight: Float(i))) }
        slot.pin(["1"])
        for i in 3...6 { slot.publish(version("\(i)", weight: Float(i))) }
        #expect(slot.versions.map(\.id) == ["1", "5", "6"])  // two unpinned kept, and the pin
        try slot.promote("1")
        slot.pin([])
        slot.publish(version("7", weight: 7))
        #expect(slot.versions.map(\.id) == ["6", "7"])
        let restored = ModelSlot(name: "online", capacity: 3)
        restored.publish(version("9", weight: 9))
        restored.restore([version("7", weight: 7), version("8", weight: 8), version("9", weight: 9)])
        #expect(restored.versions.map(\.id) == ["7", "8", "9"] && restored.current?.id == "9")
        try restored.rollback()
        #expect(restored.current?.id == "8")
    }

    @Test func readersAlwaysSeeAWholeVersionWhileAWriterSwaps() async {
        let slot = ModelSlot(name: "online")
        for i in 1...8 { slot.publish(version("\(i)", weight: Float(i))) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for n in 0..<2000 { _ = try? slot.promote("\(n % 8 + 1)") }
            }
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<5000 {
                        guard let v = slot.current else { continue }
                        // Every weight of a version equals its id: a torn read would mix them.
                        let expected = Float(v.id)!
                        #expect(v.weights[0] == expected && v.weights[15] == expected)
                    }
                }
            }
        }
    }

    @Test func onlineLearnerPublishesNewVersions() async throws {
        let slot = ModelSlot(name: "online")
        var c = ModelConfig()
        c.bits = 10
        let learner = OnlineLearner(slot: slot, config: c, publishInterval: .milliseconds(20), publishEvery: 50)
        let task = Task { await learner.run() }
        for i in 0..<120 { #expect(learner.submit(.init(features: [Feature(index: UInt32(i % 9), value: 1)], label: i % 4 == 0 ? 1 : 0))) }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        await task.value
        #expect(learner.stats.updates == 120)
        #expect(slot.versions.count >= 2)
        #expect(slot.current?.id == String(learner.stats.published))
    }
}
