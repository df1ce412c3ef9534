import DuetRouting
import Foundation

// Assignments per second on one core, for a route table of 20 experiments (half of them namespaced),
var configs: [ExperimentConfig] = []
for i in 0..<20 {
    let arms = [
        Arm(name: "static", weight: 0.6, model: ModelReference(slot: "static")),
        Arm(name: "online", weight: 0.4, model: ModelReference(slot: "online")),
    ]
    let ns = i % 2 == 0 ? nil : Namespace(name: "ns\(i / 4)", start: Double(i % 4 / 2) * 0.5, end: Double(i % 4 / 2) * 0.5 + 0.5)
    configs.append(ExperimentConfig(key: "experiment-\(i)", hashVersion: i % 3 == 0 ? 1 : 2, coverage: 0.9, namespace: ns, arms: arms))
}
let table = RouteTable(experiments: configs)
let users = (0..<100_000).map { "user-\($0 * 7919)" }
let keys = configs.map(\.key)

func run(_ rounds: Int) -> (seconds: Double, checksum: Int) {
    var checksum = 0
    let start = ContinuousClock.now
    for r in 0..<rounds {
        let key = keys[r % keys.count]
        for u in users {
            if let a = table.assign(experiment: key, user: u), a.inExperiment { checksum &+= a.armIndex + 1 }
        }
    }
    let d = ContinuousClock.now - start
    return (Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18, checksum)
}

_ = run(2)  // warm up
var rates: [Double] = []
for _ in 0..<7 {
    let (s, _) = run(20)
    rates.append(Double(20 * users.count) / s)
}
rates.sort()
let (_, checksum) = run(1)
print(String(format: "routing: %.1f M assignments/s (median of 7 runs of 2M; min %.1f, max %.1f), 20 experiments", rates[3] / 1e6, rates[0] / 1e6, rates[6] / 1e6))
print("routing: checksum \(checksum)")
