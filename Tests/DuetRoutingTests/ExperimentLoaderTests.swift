import DuetRouting
import Testing

@Suite struct ExperimentLoaderTests {
    static let good = """
    key: homepage
    arms:
      - {name: static, weight: 0.6, model: static}
      - {name: online, weight: 0.4, model: online}
    """

    func problems(_ yaml: String) -> [ValidationProblem] {
        do {
            _ = try ExperimentLoader.parse(yaml: yaml, file: "x.yaml")
            return []
        } catch let e as ExperimentValidationError {
            return e.problems
        } catch {
            return [ValidationProblem(file: "?", field: "?", message: "\(error)")]
        }
    }

    @Test func theGoodConfigParsesWithDefaults() throws {
        let c = try ExperimentLoader.parse(yaml: Self.good, file: "x.yaml")
        #expect(c.seed == "homepage" && c.hashVersion == 2 && c.coverage == 1 && c.status == .running)
        #expect(c.defaultArm == "static" && c.arms.map(\.weight) == [0.6, 0.4])
        #expect(c.arms[1].model == ModelReference(slot: .online))
    }

    @Test func armsExploreAsWrittenAndAreGreedyOtherwise() throws {
        let c = try ExperimentLoader.parse(yaml: """
        key: k
        arms:
          - {name: a, model: static}
          - {name: b, model: online, explore: {policy: epsilon}}
          - {name: c, model: online, explore: {policy: softmax, temperature: 0.01}}
          - {name: d, model: online, explore: {policy: epsilon, epsilon: 0.2}}
        """, file: "x")
        #expect(c.arms.map(\.explore) == [
            .greedy, Exploration(policy: .epsilon, epsilon: Exploration.defaultEpsilon),
            Exploration(policy: .softmax, temperature: 0.01), Exploration(policy: .epsilon, epsilon: 0.2),
        ])
        #expect(c.arms.map(\.explore.description) == ["greedy", "epsilon 0.05", "softmax T=0.01", "epsilon 0.2"])
    }

    @Test func omittedWeightsMeanEqualSplit() throws {
        let c = try ExperimentLoader.parse(yaml: "key: k\narms: [{name: a, model: static}, {name: b, model: online@17}]", file: "x")
        #expect(c.arms.map(\.weight) == [0.5, 0.5] && !c.weightsGiven)
        #expect(c.arms[1].model.version == "17")
    }

    @Test(arguments: [
        ("key: k\ncolour: red\narms: [{name: a, model: static}, {name: b, model: online}]", "colour", "unknown field"),
        ("arms: [{name: a, model: static}, {name: b, model: online}]", "key", "missing"),
        ("key: k", "arms", "missing"),
        ("key: k\narms: [{name: a, model: static}, {name: a, model: online}]", "arms[1].name", "duplicate"),
        ("key: k\narms: [{name: a, weight: -0.5, model: static}, {name: b, weight: 1.5, model: online}]", "arms[0].weight", "negative"),
        ("key: k\narms: [{name: a, weight: .nan, model: static}, {name: b, weight: 0.5, model: online}]", "arms[0].weight", "finite"),
        ("key: k\narms: [{name: a, weight: 0.7, model: static}, {name: b, weight: 0.7, model: online}]", "arms", "sum to 1"),
        ("key: k\narms: [{name: a, weight: 0.5, model: static}, {name: b, model: online}]", "arms", "every arm or to none"),
        ("key: k\ncoverage: 1.5\narms: [{name: a, model: static}, {name: b, model: online}]", "coverage", "within [0, 1]"),
        ("key: k\nnamespace: {name: s, start: 0.2, end: 1.2}\narms: [{name: a, model: static}, {name: b, model: online}]", "namespace.end", "within"),
        ("key: k\nnamespace: {name: s, start: 0.6, end: 0.4}\narms: [{name: a, model: static}, {name: b, model: online}]", "namespace", "below end"),
        ("key: k\nforce: {u1: nope}\narms: [{name: a, model: static}, {name: b, model: online}]", "force.u1", "does not exist"),
        ("key: k\narms: [{name: a, model: 'static@'}, {name: b, model: online}]", "arms[0].model", "not a model reference"),
        ("key: k\narms: [{name: a, model: gbm}, {name: b, model: online}]", "arms[0].model", "not a model reference"),
        ("key: k\ndefault_arm: c\narms: [{name: a, model: static}, {name: b, model: online}]", "default_arm", "not an arm"),
        ("key: k\nhash_version: 3\narms: [{name: a, model: static}, {name: b, model: online}]", "hash_version", "1 or 2"),
        ("key: k\nstatus: paused\narms: [{name: a, model: static}, {name: b, model: online}]", "status", "draft, running, stopped"),
        ("key: k\narms: [{name: a, model: static}]", "arms", "at least 2"),
        ("key: k\nguardrails: {max_logloss_ratio: 0.9}\narms: [{name: a, model: static}, {name: b, model: online}]", "guardrails.max_logloss_ratio", "above 1"),
        ("key: k\narms: [{name: a, model: static, colour: x}, {name: b, model: online}]", "arms[0].colour", "unknown field"),
        ("key: [1, 2]\narms: [{name: a, model: static}, {name: b, model: online}]", "key", "expected a string"),
        ("key: k\narms: {a: 1}", "arms", "list of arms"),
        ("key: k\narms: [{name: a, model: static, explore: {policy: thompson}}, {name: b, model: online}]", "arms[0].explore.policy", "greedy, epsilon, softmax"),
        ("key: k\narms: [{name: a, model: static, explore: {epsilon: 0.1}}, {name: b, model: online}]", "arms[0].explore.policy", "missing"),
        ("key: k\narms: [{name: a, model: static, explore: {policy: epsilon, epsilon: 1.5}}, {name: b, model: online}]", "arms[0].explore.epsilon", "within [0, 1]"),
        ("key: k\narms: [{name: a, model: static, explore: {policy: softmax}}, {name: b, model: online}]", "arms[0].explore.temperature", "missing"),
        ("key: k\narms: [{name: a, model: static, explore: {policy: softmax, temperature: 0}}, {name: b, model: online}]", "arms[0].explore.temperature", "above 0"),
        ("key: k\narms: [{name: a, model: static, explore: {policy: greedy, epsilon: 0.1}}, {name: b, model: online}]", "arms[0].explore.epsilon", "policy epsilon only"),
        ("key: k\narms: [{name: a, model: static}, {name: b, model: online, explore: {policy: epsilon, temperature: 2}}]", "arms[1].explore.temperature", "policy softmax only"),
        ("key: k\narms: [{name: a, model: static}, {name: b, model: online, explore: greedy}]", "arms[1].explore", "expected a mapping"),
    ])
    func eachRuleRejects(_ yaml: String, _ field: String, _ message: String) {
        let found = problems(yaml)
        #expect(found.contains { $0.field == field && $0.message.contains(message) && $0.file == "x.yaml" }, "\(found)")
    }

    @Test func everyProblemIsListedNotJustTheFirst() {
        let found = problems("key: k\ncoverage: 2\nhash_version: 5\narms: [{name: a, weight: -1, model: x}, {name: a, weight: 2, model: online}]")
        #expect(Set(found.map(\.field)).isSuperset(of: ["coverage", "hash_version", "arms[0].weight", "arms[0].model", "arms[1].name"]))
    }

    @Test func overlappingRunningNamespacesAreRejectedAcrossFiles() throws {
        let a = try ExperimentLoader.parse(yaml: "key: a\nnamespace: {name: s, start: 0, end: 0.6}\narms: [{name: x, model: static}, {name: y, model: online}]", file: "a.yaml")
        let b = try ExperimentLoader.parse(yaml: "key: b\nnamespace: {name: s, start: 0.5, end: 1}\narms: [{name: x, model: static}, {name: y, model: online}]", file: "b.yaml")
        let found = ExperimentLoader.validate([("a.yaml", a), ("b.yaml", b)])
        #expect(found.count == 1 && found[0].file == "b.yaml" && found[0].field == "namespace")
        var stopped = b
        stopped.status = .stopped
        #expect(ExperimentLoader.validate([("a.yaml", a), ("b.yaml", stopped)]).isEmpty)
        #expect(ExperimentLoader.validate([("a.yaml", a), ("c.yaml", a)]).contains { $0.field == "key" })
    }

    @Test func shippedConfigsAreValid() throws {
        let dir = DuetTestSupportPaths.experiments
        let configs = try ExperimentLoader.load(files: ["homepage", "search-ranking-a", "search-ranking-b"].map { "\(dir)/\($0).yaml" })
        #expect(configs.map(\.key) == ["homepage", "search-ranking-a", "search-ranking-b"])
    }
}

import DuetTestSupport
enum DuetTestSupportPaths {
    static var experiments: String { TestSupport.packageRoot.appendingPathComponent("experiments").path }
}
