/// An immutable, precompiled set of experiments: answers "which arm does this user get?" without
/// allocating. Build a new table to change anything; swap it in with one atomic reference store.
///
///     let table = RouteTable(experiments: configs)
///     if let a = table.assign(experiment: "homepage", user: "u42") { print(a.arm, a.model) }
public final class RouteTable: Sendable {
    /// The experiments, in the order given.
    public let experiments: [ExperimentConfig]
    let compiled: [String: Compiled]

    /// One experiment, precompiled. A class so a lookup retains one reference, not every field.
    final class Compiled: Sendable {
        let index: Int
        let seed: String
        let seedState: UInt32
        let hashVersion: Int
        let ranges: [BucketRange]
        let namespace: Namespace?
        let running: Bool
        let force: [String: Int]
        let defaultIndex: Int
        let arms: [Arm]

        init(index: Int, seed: String, seedState: UInt32, hashVersion: Int, ranges: [BucketRange], namespace: Namespace?,
             running: Bool, force: [String: Int], defaultIndex: Int, arms: [Arm]) {
            self.index = index
            self.seed = seed
            self.seedState = seedState
            self.hashVersion = hashVersion
            self.ranges = ranges
            self.namespace = namespace
            self.running = running
            self.force = force
            self.defaultIndex = defaultIndex
            self.arms = arms
        }
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
                index: i, seed: e.seed, seedState: GrowthBook.fnv1a32(e.seed), hashVersion: e.hashVersion, ranges: e.bucketRanges, namespace: e.namespace,
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
            return Assignment(experiment: c, armIndex: forced, inExperiment: true, forced: true)
        }
        let out = Assignment(experiment: c, armIndex: c.defaultIndex, inExperiment: false, forced: false)
        guard c.running, !user.isEmpty else { return out }
        if let ns = c.namespace, !GrowthBook.inNamespace(user: user, name: ns.name, start: ns.start, end: ns.end) {
            return out
        }
        let n: Double
        if c.hashVersion == 2 {
            n = GrowthBook.hashV2(seedState: c.seedState, value: user)
        } else {
            guard let v = GrowthBook.hash(seed: c.seed, value: user, version: c.hashVersion) else { return out }
            n = v
        }
        let i = GrowthBook.chooseVariation(n, ranges: c.ranges)
        guard i >= 0 else { return out }
        return Assignment(experiment: c, armIndex: i, inExperiment: true, forced: false)
    }
}

/// Where a user landed.
public struct Assignment: Sendable, Equatable {
    let experiment: RouteTable.Compiled
    public let armIndex: Int
    /// False for users outside coverage or namespace, or when the experiment is not running: they get
    /// the default arm and are not counted.
    public let inExperiment: Bool
    /// True when a `force:` entry decided.
    public let forced: Bool

    init(experiment: RouteTable.Compiled, armIndex: Int, inExperiment: Bool, forced: Bool) {
        self.experiment = experiment
        self.armIndex = armIndex
        self.inExperiment = inExperiment
        self.forced = forced
    }

    /// The experiment's index in the table's `experiments`.
    public var experimentIndex: Int { experiment.index }
    public var armConfig: Arm { experiment.arms[armIndex] }
    /// Every arm of the experiment, in order.
    public var arms: [Arm] { experiment.arms }
    public var arm: String { experiment.arms[armIndex].name }
    public var model: ModelReference { experiment.arms[armIndex].model }

    public static func == (a: Assignment, b: Assignment) -> Bool {
        a.experiment === b.experiment && a.armIndex == b.armIndex && a.inExperiment == b.inExperiment && a.forced == b.forced
    }
}
