import ArgumentParser
import DuetIngest
import DuetModels
import Foundation

/// `duet replay LOG`: one progressive-validation pass (predict, then learn) in log order.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay", abstract: "Predict-then-learn over a log in order; print one JSON line of results.")

    @Argument(help: "The log to replay.") var log: String
    @Option(help: "Start from this model file instead of an empty model.") var model: String?
    @OptionGroup var options: ModelOptions

    func run() throws {
        let format = try options.logFormat()
        var learner: Learner
        if let model {
            let start: ModelVersion
            do { start = try ModelFile.read(path: model) } catch { throw CLIError(error.message) }
            learner = Learner(start: start)
        } else {
            learner = Learner(config: try options.modelConfig())
        }
        let hasher = learner.config.hasher
        let started = ContinuousClock.now
        do {
            try LogReader.readHashed(log, format: format, items: options.items, hasher: hasher) { features, label, weight in
                learner.learn(features, label: label, weight: weight)
            }
        } catch let e as LogError {
            throw CLIError(e.message)
        }
        let d = ContinuousClock.now - started
        let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        let m = learner.metrics
        let out: [String: Any] = [
            "examples": m.examples, "logloss": m.logloss ?? NSNull(), "auc": m.auc ?? NSNull(),
            "clicks": Int(m.positives.rounded()), "examples_per_second": Double(m.examples) / max(seconds, 1e-9), "seconds": seconds,
            "rejected": learner.rejections.values.reduce(0, +),
        ]
        let data = try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
