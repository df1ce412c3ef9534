import ArgumentParser
import DuetIngest
import DuetModels
import Foundation

/// Options shared by `duet train` and `duet replay`.
struct ModelOptions: ParsableArguments {
    @Option(help: "Log format: obd (Open Bandit CSV) or jsonl.") var format: String = "jsonl"
    @Option(help: "obd only: item_context.csv (default: next to LOG).") var items: String?
    @Option(help: "Hash bits (2^bits weight slots).") var bits: Int?
    @Option(help: "Factorization-machine rank (0 = logistic regression).") var k: Int?
    @Option(help: "Optimizer: adagrad or ftrl.") var optimizer: String?
    @Option(name: .customLong("learning-rate"), help: "Step size of the linear weights.") var learningRate: Float?
    @Option(name: .customLong("factor-learning-rate"), help: "Step size of the factor vectors.") var factorLearningRate: Float?
    @Option(name: .customLong("factor-init"), help: "Standard deviation of the initial factor values.") var factorInit: Float?
    @Option(help: "L2 regularisation.") var l2: Float?
    @Option(name: .customLong("interactions"), help: "Field pairs to cross, as a:b (repeatable).") var interactions: [String] = []

    func logFormat() throws -> LogReader.Format {
        guard let f = LogReader.Format(rawValue: format) else { throw CLIError("--format: '\(format)' is not obd or jsonl") }
        return f
    }

    func modelConfig() throws -> ModelConfig {
        var c = ModelConfig()
        if let bits {
            guard (4...28).contains(bits) else { throw CLIError("--bits: \(bits) is outside 4…28") }
            c.bits = bits
        }
        if let k {
            guard ModelConfig.kRange.contains(k) else { throw CLIError("--k: \(k) is outside \(ModelConfig.kRange.lowerBound)…\(ModelConfig.kRange.upperBound)") }
            c.k = k
        }
        if let optimizer {
            guard let o = ModelConfig.Optimizer(rawValue: optimizer) else { throw CLIError("--optimizer: '\(optimizer)' is not adagrad or ftrl") }
            c.optimizer = o
        }
        if let learningRate {
            guard learningRate.isFinite, learningRate > 0 else { throw CLIError("--learning-rate: must be a positive number") }
            c.learningRate = learningRate
        }
        if let factorLearningRate {
            guard factorLearningRate.isFinite, factorLearningRate > 0 else { throw CLIError("--factor-learning-rate: must be a positive number") }
            c.factorLearningRate = factorLearningRate
        }
        if let factorInit {
            guard factorInit.isFinite, factorInit >= 0, factorInit <= 1 else { throw CLIError("--factor-init: must be within 0…1") }
            c.factorInit = factorInit
        }
        if let l2 {
            guard l2.isFinite, l2 >= 0 else { throw CLIError("--l2: must be a non-negative number") }
            c.l2 = l2
        }
        c.interactions = try interactions.map { pair in
            let parts = pair.split(separator: ":").map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw CLIError("--interactions: '\(pair)' is not FIELD:FIELD") }
            return parts
        }
        return c
    }
}

/// `duet train LOG --format obd|jsonl --out FILE`: trains a static model offline and writes it with
/// its optimizer state (see `OptimizerState`).
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Train a static model from a log and write a model file.")

    @Argument(help: "The training log.") var log: String
    @Option(help: "Model file to write (atomically).") var out: String
    @Option(help: "Passes over the log.") var epochs = 1
    @Option(help: "Version id (default: the output file's name without extension).") var id: String?
    @OptionGroup var options: ModelOptions

    func run() throws {
        let format = try options.logFormat()
        guard epochs >= 1 else { throw CLIError("--epochs: must be at least 1") }
        let config = try options.modelConfig()
        let hasher = config.hasher
        var learner = Learner(config: config)
        let started = Date()
        do {
            for _ in 0..<epochs {
                try LogReader.readHashed(log, format: format, items: options.items, hasher: hasher) { features, label, weight in
                    learner.learn(features, label: label, weight: weight)
                }
            }
        } catch let e as LogError {
            throw CLIError(e.message)
        }
        let name = id ?? URL(fileURLWithPath: out).deletingPathExtension().lastPathComponent
        let version = learner.publish(id: name, parentID: nil, kind: .static)
        // With the optimizer state, so the online learner warm-started from this file continues with the
        // step sizes training reached instead of a new model's.
        do { try ModelFile.write(version, optimizerState: learner.optimizerState, to: out) } catch { throw CLIError("\(out): \(error)") }
        let rejected = learner.rejections.values.reduce(0, +)
        print(String(format: "trained %@ on %d examples (%d epochs, %d rejected) in %.2f s; progressive logloss %.5f → %@",
                     name as NSString, learner.updates, epochs, rejected, Date().timeIntervalSince(started),
                     learner.metrics.logloss ?? .nan, out as NSString))
    }
}
