import DuetFeatures
import DuetModels
@testable import DuetServer
import DuetStore
import DuetTestSupport
import Foundation
import Logging

/// A server built in-process on test dependencies: the repository's feature definitions and
/// snapshots in the embedded store, a SQLite file and a small static model in a temporary data
/// directory, the experiments of `experiments/`.
enum TestApp {
    static let adminToken = "t0ken"

    static func configuration(_ prefix: String) throws -> ServerConfiguration {
        var config = ServerConfiguration()
        let data = try TestSupport.temporaryDirectory(prefix)
        config.dataDirectory = data.path
        config.experimentsDirectory = TestSupport.packageRoot.appendingPathComponent("experiments").path
        config.featuresDirectory = TestSupport.packageRoot.appendingPathComponent("features").path
        config.adminTokens = ["ops": adminToken]
        config.checkpointInterval = .seconds(3600)
        try FileManager.default.createDirectory(at: data.appendingPathComponent("models/static"), withIntermediateDirectories: true)
        try ModelFile.write(staticModel(), to: data.appendingPathComponent("models/static/obd-static.duet").path)
        return config
    }

    /// A small model trained on a few rows of the features the snapshots carry.
    static func staticModel() -> ModelVersion {
        var c = ModelConfig()
        c.bits = 14
        var learner = Learner(config: c)
        let hasher = c.hasher
        for i in 0..<400 {
            let features = [NamedFeature("item_id", .string("\(i % 20)")), NamedFeature("position", .string("\(i % 3 + 1)"))]
            _ = learner.learn(hasher.hash(features), label: i % 20 < 3 ? 1 : 0)
        }
        return learner.publish(id: "obd-static", parentID: nil, kind: .static)
    }

    static func dependencies(_ config: ServerConfiguration, metrics: DuetMetrics = DuetMetrics()) throws -> AppDependencies {
        let definitions = try FeatureSetDefinition.load(directory: config.featuresDirectory)
        let store = try EmbeddedFeatureStore(snapshotsDirectory: config.featuresDirectory + "/snapshots", definitions: definitions)
        let database = try DuetDatabase(path: config.dataDirectory + "/duet.sqlite")
        return AppDependencies(features: { store }, featureStoreName: "embedded store", database: database, metrics: metrics,
                               logger: Logger(label: "test"))
    }
}
