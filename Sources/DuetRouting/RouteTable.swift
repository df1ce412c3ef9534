/// An immutable, precompiled set of experiments: answers "which arm does this user get?" without
/// allocating. Build a new table to change anything; swap it in with one atomic reference store.
///
///     let table = RouteTable(experiments: configs)
///     if let a = table.assign(experiment: "homepage", user: "u42") { print(a.arm, a.model) }
public final class RouteTable: Sendable {
    /// The experiments, in the order given.
    public let experiments: [ExperimentConfig]
    let compiled: [String: Compiled]

    struct Compiled: Sendable {
        var index: Int
        var seed: String
        var hashVersion: Int
        var ranges: [BucketRange]
        var namespace: Namespace?
        var running: Bool
        var force: [String: Int]
        var defaultIndex: Int
        var arms: [Arm]
    }

    public init(experiments: [ExperimentConfig]) {
        self.experiments = experiments
        var compiled: [String: Compiled] = [:]
        for (i, e) in experiments.enumerated() {
            var force: [String: Int] = [:]
            for (user, arm) in e.force {
                if let j = e.arms.firstIndex(where: { $0.name == arm }) { force[user] = j }
            }
            compiled[e.key] = Compiled(
                index: i, seed: e.seed, hashVersion: e.hashVersion, ranges: e.bucketRanges, namespace: e.namespace,
                running: e.status == .running && e.arms.count >= 2, force: force,
                defaultIndex: e.arms.firstIndex { $0.name == e.defaultArm } ?? 0, arms: e.arms)
        }
        self.compiled = compiled
    }

    /// The experiment named `key`.
    public func experiment(_ key: String) -> ExperimentConfig? {
        compiled[key].map { experiments[$0.index] }
    }

    /// The index of `key` in `experiments`.
    public func index(of key: String) -> Int? { compiled[key]?.index }

    /// The arm `user` gets in `experiment`; nil when there is no such experiment.
    ///
    /// Order, as GrowthBook: forced assignment; then only running experiments assign; an empty user id,
    /// a user outside the namespace or outside coverage gets the default arm, not in the experiment.
    public func assign(experiment key: String, user: String) -> Assignment? {
        guard let c = compiled[key] else { return nil }
        if !c.force.isEmpty, let forced = c.force[user] {
            return Assignment(experimentIndex: c.index, armIndex: forced, arm: c.arms[forced], inExperiment: true, forced: true)
        }
        let out = Assignment(experimentIndex: c.index, armIndex: c.defaultIndex, arm: c.arms[c.defaultIndex], inExperiment: false, forced: false)
        guard c.running, !user.isEmpty else { return out }
        if let ns = c.namespace, !GrowthBook.inNamespace(user: user, name: ns.name, start: ns.start, end: ns.end) {
            return out
        }
        guard let n = GrowthBook.hash(seed: c.seed, value: user, version: c.hashVersion) else { return out }
        let i = GrowthBook.chooseVariation(n, ranges: c.ranges)
        guard i >= 0 else { return out }
        return Assignment(experimentIndex: c.index, armIndex: i, arm: c.arms[i], inExperiment: true, forced: false)
    }
}

/// Where a user landed.
public struct Assignment: Sendable, Equatable {
    public var experimentIndex: Int
    public var armIndex: Int
    public var armConfig: Arm
    /// False for users outside coverage or namespace, or when the experiment is not running: they get
    /// the default arm and are not counted.
    public var inExperiment: Bool
    /// True when a `force:` entry decided.
    public var forced: Bool

    init(experimentIndex: Int, armIndex: Int, arm: Arm, inExperiment: Bool, forced: Bool) {
        self.experimentIndex = experimentIndex
        self.armIndex = armIndex
        self.armConfig = arm
        self.inExperiment = inExperiment
        self.forced = forced
    }

    public var arm: String { armConfig.name }
    public var model: ModelReference { armConfig.model }
}
