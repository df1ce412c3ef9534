@testable import DuetServer
import DuetIngest
import DuetModels
import DuetTestSupport
import Foundation
import Testing

/// The guardrail's sequential test on real data: the static model trained on the OBD `bts` log, the
/// online model warm-started from it and learning the OBD `random` log (honest traffic, shuffled
/// differently per run), with the configuration the README ships (ratio 1.10, window 2,000,
/// 500 events before a decision).
@Suite struct GuardrailMonitorTests {
    static func rows(_ name: String) throws -> [(features: [Feature], label: Double)] {
        var rows: [(features: [Feature], label: Double)] = []
        try LogReader.readHashed(TestSupport.packageRoot.appendingPathComponent(name).path, format: .obd, hasher: ModelConfig().hasher) { f, label, _ in
            rows.append((f, label))
        }
        return rows
    }

    static let staticModel: ModelVersion = {
        var learner = Learner(config: ModelConfig())
        for r in try! rows("data/obd/bts/men.csv") { _ = learner.learn(r.features, label: r.label) }
        return learner.publish(id: "static", parentID: nil, kind: .static)
    }()

    /// Feeds `stream` through a monitor while the online model learns it; the events at which it
    /// said "degraded" (it is not reset, so later alarms count too).
    /// `degrade(i, p)`: what the online model predicts at event i instead of p (a planted fault).
    static func run(
        _ stream: [(features: [Feature], label: Double)], monitor: inout GuardrailMonitor, degrade: (Int, Double) -> Double = { $1 },
        healthy: inout [String]
    ) -> [Int] {
        var online = Learner(start: staticModel)
        var alarms: [Int] = []
        for (i, r) in stream.enumerated() {
            let p = degrade(i, online.predict(r.features))
            switch monitor.add(label: r.label, staticPrediction: staticModel.predict(r.features), onlinePrediction: p, onlineVersion: "v\(i / 250)") {
            case .degraded: alarms.append(i)
            case .blockEnded(let h?): healthy.append(h)
            default: break
            }
            _ = online.learn(r.features, label: r.label)
        }
        return alarms
    }

    static func run(_ stream: [(features: [Feature], label: Double)], monitor: inout GuardrailMonitor, degrade: (Int, Double) -> Double = { $1 }) -> [Int] {
        var healthy: [String] = []
        return run(stream, monitor: &monitor, degrade: degrade, healthy: &healthy)
    }

    @Test func honestReplaysRaiseNoAlarm() throws {
        let log = try Self.rows("data/obd/random/men.csv")
        var falseAlarms = 0, healthy = 0
        let runs = 12
        for seed in 0..<runs {
            var rng = SplitMix64(seed: UInt64(seed))
            var monitor = GuardrailMonitor(ratio: 1.1, window: 2000, minExamples: 500)
            var stream = log
            if seed > 0 { stream.shuffle(using: &rng) }
            let alarms = Self.run(stream, monitor: &monitor)
            if !alarms.isEmpty { falseAlarms += 1 }
            healthy += monitor.blockNumber - 1
        }
        // Measured: 0 of 12 runs (120,000 honest events) raised an alarm.
        #expect(falseAlarms == 0, "\(falseAlarms) of \(runs) honest replays raised the guardrail")
        #expect(healthy >= runs * 4, "blocks passed: \(healthy)")
    }

    /// From event 4,000 the online model predicts 4× the static model's click rate (a model gone
    /// wrong): caught within the block it started in.
    @Test func aSustainedDegradationIsCaughtWithinABlock() throws {
        let log = try Self.rows("data/obd/random/men.csv")
        var monitor = GuardrailMonitor(ratio: 1.1, window: 2000, minExamples: 500)
        let statics = log.map { Self.staticModel.predict($0.features) }
        let alarms = Self.run(log, monitor: &monitor) { i, p in i >= 4000 ? min(0.5, 4 * statics[i]) : p }
        let first = try #require(alarms.first, "the degradation went unnoticed")
        #expect(first >= 4000, "alarm before the fault, at \(first)")
        #expect(first < 6000, "caught \(first - 4000) events after the fault began")
    }

    /// A burst of bot clicks (every impression clicked) fits the online model that learns it better
    /// than the static one, so its blocks pass the loss test: the traffic check keeps them from
    /// being marked healthy.
    @Test func aBlockOfBotClicksIsNotMarkedHealthy() throws {
        let log = try Self.rows("data/obd/random/men.csv")
        let stream = Array(log[0..<2000]) + log[2000..<4000].map { (features: $0.features, label: 1.0) } + Array(log[4000..<6000])
        var monitor = GuardrailMonitor(ratio: 1.1, window: 2000, minExamples: 500)
        var healthy: [String] = []
        _ = Self.run(stream, monitor: &monitor, healthy: &healthy)
        #expect(healthy.contains("v0"), "the honest first block was not marked: \(healthy)")
        #expect(!healthy.contains("v8"), "the block of bot clicks marked its version healthy: \(healthy)")
    }

    @Test func aBlockThatPassesMarksTheVersionItStartedWith() {
        var m = GuardrailMonitor(ratio: 1.1, window: 10, minExamples: 5)
        var decisions: [GuardrailMonitor.Decision] = []
        for i in 0..<10 { decisions.append(m.add(staticLoss: 0.1, onlineLoss: 0.09, onlineVersion: "v\(i)")) }
        #expect(decisions.last == .blockEnded(healthy: "v0"))
        #expect(m.blockStart == "v9" && m.blockNumber == 2)
        // A worse block is not healthy.
        for i in 0..<10 { decisions.append(m.add(staticLoss: 0.1, onlineLoss: 0.2 + 0.01 * Double(i % 2), onlineVersion: "w\(i)")) }
        #expect(decisions.last == .blockEnded(healthy: nil) || decisions.contains { if case .degraded = $0 { true } else { false } })
        #expect(m.add(staticLoss: 0.1, onlineLoss: .infinity, onlineVersion: "x") != .continuing)
    }
}
