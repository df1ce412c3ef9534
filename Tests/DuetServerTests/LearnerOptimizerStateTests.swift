import DuetCluster
import DuetModels
@testable import DuetServer
import DuetStore
import DuetTestSupport
import Foundation
import Logging
import Testing

/// The server's learner carries its optimizer state through every start: warm from a static file
/// that has one, into each checkpoint, back out of a checkpoint at a restart, and into a rollback to a
/// checkpointed version.
@Suite struct LearnerOptimizerStateTests {
    /// A learner service over `data`, as `buildRouter` makes it (a checkpoint only when asked).
    static func service(_ data: String, metrics: DuetMetrics = DuetMetrics()) throws -> (LearnerService, ModelRegistry) {
        let logger = Logger(label: "test")
        let database = try DuetDatabase(path: data + "/duet.sqlite")
        let registry = ModelRegistry(versionsKept: 8, database: database, metrics: metrics, clock: SystemClock(), logger: logger, dataDirectory: data)
        let log = try FeedbackLog(configuration: .init(directory: data + "/feedback"), logger: logger)
        let service = try LearnerService(
            dataDirectory: data, configuration: .init(publishInterval: .seconds(3600), publishEvery: 1_000_000, checkpointInterval: .seconds(3600)),
            log: log, registry: registry, database: database, metrics: metrics, logger: logger)
        return (service, registry)
    }

    /// The static model of `TestApp`, trained here so its optimizer state is at hand.
    static func trained() -> (version: ModelVersion, state: OptimizerState, examples: [OnlineLearner.Example]) {
        var c = ModelConfig()
        c.bits = 12
        c.k = 2
        var learner = Learner(config: c)
        let hasher = c.hasher
        let examples = (0..<800).map { i in
            OnlineLearner.Example(
                features: hasher.hash([NamedFeature("item_id", .string("\(i % 20)")), NamedFeature("position", .string("\(i % 3 + 1)"))]),
                label: i % 20 < 3 ? 1 : 0)
        }
        for e in examples.prefix(400) { learner.learn(e.features, label: e.label) }
        return (learner.publish(id: "s", parentID: nil, kind: .static), learner.optimizerState, Array(examples.suffix(400)))
    }

    @Test func warmStartCheckpointRestartAndRollbackCarryTheState() async throws {
        let data = try TestSupport.temporaryDirectory("optstate-server").path
        let (model, staticState, more) = Self.trained()
        try ModelFile.write(model, optimizerState: staticState, to: data + "/models/static/s.duet")

        // Warm start: the learner continues with the static file's state.
        let (service, registry) = try Self.service(data)
        try await registry.publishStatic(try ModelFile.read(path: data + "/models/static/s.duet").renamed(id: "s", parentID: nil, kind: .static),
                                         path: data + "/models/static/s.duet", actor: "test")
        try await service.start()
        let learner = try #require(registry.learner)
        #expect(learner.checkpointState()?.optimizerState == staticState)

        // A checkpoint publishes what was learned and saves the state that goes with it.
        learner.replay(Array(more.prefix(200)))
        await service.checkpoint()
        let first = try #require(learner.checkpointState())
        #expect(first.optimizerState != staticState)
        let (saved, savedState) = try ModelFile.readWithOptimizerState(path: data + "/models/online/\(first.version.id).duet")
        #expect(saved.id == first.version.id && savedState == first.optimizerState)
        #expect(saved.weights.flattened() == first.version.weights.flattened())

        // Learn more, checkpoint again; then roll back to the first checkpoint: weights and state are its own.
        learner.replay(Array(more.suffix(200)))
        await service.checkpoint()
        let second = try #require(learner.checkpointState())
        #expect(second.version.id != first.version.id)
        _ = try await registry.rollback(slot: .online, to: first.version.id, actor: "test")
        let run = Task { await learner.run() }
        var afterRollback = learner.checkpointState()
        for _ in 0..<400 where afterRollback == nil {
            try await Task.sleep(for: .milliseconds(5))
            afterRollback = learner.checkpointState()
        }
        run.cancel()
        await run.value
        #expect(afterRollback?.version.id == first.version.id && afterRollback?.optimizerState == first.optimizerState)

        // A restart resumes from CURRENT's checkpoint (the second) with its state.
        service.log.close()
        #expect(try String(contentsOfFile: data + "/models/online/CURRENT", encoding: .utf8) == second.version.id + "\n")
        let (restarted, registry2) = try Self.service(data)
        try await registry2.publishStatic(model.renamed(id: "s", parentID: nil, kind: .static), path: data + "/models/static/s.duet", actor: "test")
        try await restarted.start()
        let resumed = try #require(registry2.learner?.checkpointState())
        #expect(resumed.version.id == second.version.id && resumed.optimizerState == second.optimizerState)
    }

    @Test func aStaticFileWithoutStateStartsTheOptimizerFresh() async throws {
        let data = try TestSupport.temporaryDirectory("optstate-fresh").path
        let (model, _, _) = Self.trained()
        try ModelFile.write(model, to: data + "/models/static/s.duet")
        let (service, registry) = try Self.service(data)
        try await registry.publishStatic(model.renamed(id: "s", parentID: nil, kind: .static), path: data + "/models/static/s.duet", actor: "test")
        try await service.start()
        let state = try #require(registry.learner?.checkpointState()?.optimizerState)
        #expect(state == OptimizerState(fresh: model.config))
    }
}
