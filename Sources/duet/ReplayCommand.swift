import ArgumentParser
import DuetEvaluation
import DuetIngest
import DuetModels
import Foundation

/// `duet replay LOG`: one progressive-validation pass (predict, then learn) in log order; with
/// `--policy`, also the off-policy value of a target policy on a log with propensities.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay", abstract: "Predict-then-learn over a log in order; print one JSON line of results.",
        discussion: """
            With --policy (on logs that carry the logging policy's propensities: OBD's propensity_score, or jsonl \
            lines {"features": {…}, "candidates": [{…}, …], "chosen": i, "propensity": p, "label": 0|1}), the line also has \
            "policy_value": IPS, SNIPS and DR estimates, each with a 95% interval, of the click rate the target \
            policy would have had, and "logged_policy_value": the log's own click rate. The policy chooses, for \
            OBD, among every catalog item (item_context.csv) for the row's user at the row's position; for jsonl, \
            among the line's candidates (each: the shared features and its own), by the model's predicted click probabilities, scored before the model learns the row; DR uses those \
            predictions as its reward model. With learning (the default) the target is the online learner itself; \
            with --no-learn, the fixed --model.
            """)

    @Argument(help: "The log to replay.") var log: String
    @Option(help: "Start from this model file instead of an empty model.") var model: String?
    @Option(help: "Off-policy evaluation (logs with propensities): uniform, greedy, epsilon:E (0…1) or softmax:T (T > 0, on the click-probability scale).")
    var policy: String?
    @Flag(name: .customLong("no-learn"), help: "Score with --model without learning from the log.") var noLearn = false
    @Flag(
        name: .customLong("fresh-optimizer-state"),
        help: "Learn from --model's weights with a fresh optimizer state, ignoring the one saved in the file (as with files written without one).")
    var freshOptimizerState = false
    @OptionGroup var options: ModelOptions

    func run() throws {
        let format = try options.logFormat()
        let target = try policy.map(Self.parsePolicy)
        if freshOptimizerState && model == nil {
            throw CLIError("--fresh-optimizer-state: needs --model (an empty model's optimizer state is fresh anyway)")
        }
        if noLearn && model == nil { throw CLIError("--no-learn: needs --model (an empty model that does not learn predicts nothing)") }
        var replay = Replay(learner: try startingLearner(), learns: !noLearn)
        let started = ContinuousClock.now
        do {
            if let target {
                try LogReader.readRounds(log, format: format, items: options.items, hasher: replay.learner.config.hasher) { round in
                    try replay.evaluate(round, policy: target, log: log)
                }
            } else {
                try LogReader.readHashed(log, format: format, items: options.items, hasher: replay.learner.config.hasher) { features, label, weight in
                    replay.score(features, label: label, weight: weight)
                }
            }
        } catch let e as LogError {
            throw CLIError(e.message)
        }
        let d = ContinuousClock.now - started
        let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        var out: [String: Any] = [
            "examples": replay.metrics.examples, "logloss": replay.metrics.logloss ?? NSNull(), "auc": replay.metrics.auc ?? NSNull(),
            "clicks": Int(replay.metrics.positives.rounded()), "examples_per_second": Double(replay.metrics.examples) / max(seconds, 1e-9),
            "seconds": seconds, "rejected": replay.rejected,
        ]
        if let policy {
            out["policy"] = policy
            out["policy_value"] = [
                "ips": Self.json(replay.ips.estimate()), "snips": Self.json(replay.snips.estimate()), "dr": Self.json(replay.dr.estimate()),
            ]
            out["logged_policy_value"] = Self.json(replay.logged.estimate())
        }
        let data = try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    func startingLearner() throws -> Learner {
        guard let model else { return Learner(config: try options.modelConfig()) }
        do {
            let (start, state) = try ModelFile.readWithOptimizerState(path: model)
            return Learner(start: start, optimizerState: freshOptimizerState ? nil : state)
        } catch { throw CLIError(error.message) }
    }

    /// `uniform`, `greedy`, `epsilon:E`, `softmax:T`.
    static func parsePolicy(_ text: String) throws -> ExplorationPolicy {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let policy: ExplorationPolicy?
        switch (parts.first, parts.count) {
        case ("uniform", 1): policy = .uniform
        case ("greedy", 1): policy = .greedy
        case ("epsilon", 2): policy = Double(parts[1]).map { .epsilon($0) }
        case ("softmax", 2): policy = Double(parts[1]).map { .softmax(temperature: $0) }
        default: policy = nil
        }
        guard let policy, policy.isValid else {
            throw CLIError("--policy: '\(text)' is not uniform, greedy, epsilon:E (E within 0…1) or softmax:T (T > 0)")
        }
        return policy
    }

    /// `{"value": v, "ci": [lo, hi]}` (null where there is none).
    static func json(_ e: Estimate?) -> Any {
        guard let e else { return ["value": NSNull(), "ci": NSNull()] }
        let ci: Any = e.interval.map { [$0.lowerBound, $0.upperBound] as Any } ?? NSNull()
        return ["value": e.value, "ci": ci]
    }
}

/// The state of one replay: the model (learning or not), its progressive metrics, and the
/// off-policy estimators.
struct Replay {
    var learner: Learner
    let learns: Bool
    /// Without learning, the metrics are kept here (the learner keeps its own when it learns).
    var frozenMetrics = ProgressiveMetrics()
    var frozenRejected = 0
    var ips = IPSEstimator(), snips = SNIPSEstimator(), dr = DREstimator()
    var logged = RunningMoments()

    init(learner: Learner, learns: Bool) {
        self.learner = learner
        self.learns = learns
    }

    var metrics: ProgressiveMetrics { learns ? learner.metrics : frozenMetrics }
    var rejected: Int { learns ? learner.rejections.values.reduce(0, +) : frozenRejected }

    /// Predicts the example, then learns from it (unless frozen).
    mutating func score(_ features: [Feature], label: Double, weight: Double) {
        if learns {
            learner.learn(features, label: label, weight: weight)
        } else if Learner.check(features, label: label, weight: weight) != nil {
            frozenRejected += 1
        } else {
            frozenMetrics.add(p: learner.predict(features), label: label, weight: weight)
        }
    }

    /// One logged round: the target policy's probabilities over the catalog from the model's current
    /// predictions, the estimators' event, then the logged row as `score` takes it.
    mutating func evaluate(_ round: LoggedRound, policy: ExplorationPolicy, log: String) throws {
        let predictions = round.candidates.map { learner.predict($0) }
        let target = policy.probabilities(predictions)
        let event: LoggedEvent
        do {
            event = try LoggedEvent(
                reward: round.click, propensity: round.propensity, targetProbability: target[round.loggedItem],
                predictedReward: predictions[round.loggedItem], expectedPredictedReward: zip(target, predictions).map(*).reduce(0, +))
        } catch {
            throw LogError("\(log):\(round.line): \(error.message)")
        }
        ips.add(event)
        snips.add(event)
        dr.add(event)
        logged.add(round.click)
        score(round.candidates[round.loggedItem], label: round.click, weight: 1)
    }
}
