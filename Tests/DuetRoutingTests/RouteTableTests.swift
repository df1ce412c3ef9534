import DuetRouting
import Testing

@Suite struct RouteTableTests {
    func arms(_ w: [Double]) -> [Arm] {
        w.enumerated().map { Arm(name: ["static", "online", "third"][$0.offset], weight: $0.element, model: ModelReference(slot: .static)) }
    }

    @Test func sameUserSameArmEveryTime() {
        let table = RouteTable(experiments: [ExperimentConfig(key: "homepage", arms: arms([0.6, 0.4]))])
        for i in 0..<1000 {
            let a = table.assign(experiment: "homepage", user: "u\(i)")
            #expect(a == table.assign(experiment: "homepage", user: "u\(i)"))
        }
        #expect(table.assign(experiment: "nope", user: "u1") == nil)
    }

    @Test func splitFollowsTheWeights() {
        let table = RouteTable(experiments: [ExperimentConfig(key: "homepage", arms: arms([0.6, 0.4]))])
        var counts = [0, 0]
        for i in 0..<20000 { counts[table.assign(experiment: "homepage", user: "user-\(i)")!.armIndex] += 1 }
        #expect(abs(Double(counts[0]) / 20000 - 0.6) < 0.02)
    }

    @Test func forcedUsersWinEvenWhenStopped() {
        let config = ExperimentConfig(key: "e", status: .stopped, arms: arms([0.5, 0.5]), force: ["qa": "online"])
        let table = RouteTable(experiments: [config])
        let forced = table.assign(experiment: "e", user: "qa")!
        #expect(forced.arm == "online" && forced.forced && forced.inExperiment)
        let other = table.assign(experiment: "e", user: "someone")!
        #expect(!other.inExperiment && other.arm == "static")
    }

    @Test func usersOutsideCoverageGetTheDefaultArm() {
        let config = ExperimentConfig(key: "e", coverage: 0.1, arms: arms([0.5, 0.5]), defaultArm: "online")
        let table = RouteTable(experiments: [config])
        var outside = 0
        for i in 0..<5000 {
            let a = table.assign(experiment: "e", user: "u\(i)")!
            if !a.inExperiment { outside += 1; #expect(a.arm == "online") }
        }
        #expect(outside > 4000 && outside < 4800)
    }

    @Test func namespacesAreMutuallyExclusive() {
        let a = ExperimentConfig(key: "a", namespace: Namespace(name: "search", start: 0, end: 0.5), arms: arms([0.5, 0.5]))
        let b = ExperimentConfig(key: "b", namespace: Namespace(name: "search", start: 0.5, end: 1), arms: arms([0.5, 0.5]))
        let table = RouteTable(experiments: [a, b])
        var inA = 0, inB = 0
        for i in 0..<5000 {
            let x = table.assign(experiment: "a", user: "u\(i)")!.inExperiment
            let y = table.assign(experiment: "b", user: "u\(i)")!.inExperiment
            #expect(!(x && y))
            if x { inA += 1 }
            if y { inB += 1 }
        }
        #expect(inA > 2000 && inB > 2000)
    }

    @Test func draftAndEmptyUsersAreNotInTheExperiment() {
        let table = RouteTable(experiments: [ExperimentConfig(key: "e", status: .draft, arms: arms([0.5, 0.5]))])
        #expect(table.assign(experiment: "e", user: "u1")?.inExperiment == false)
        let running = RouteTable(experiments: [ExperimentConfig(key: "e", arms: arms([0.5, 0.5]))])
        #expect(running.assign(experiment: "e", user: "")?.inExperiment == false)
    }
}
