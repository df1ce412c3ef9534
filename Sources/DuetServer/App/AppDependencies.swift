import DuetFeatures
import DuetStore
import Foundation
import Logging

/// What the application is built on and does not build itself: the feature reader, the control-plane
/// database, the clock, the metrics registry and the logger. `live` makes the real ones from a
/// configuration; tests hand in their own (an embedded store, a database in a temporary directory).
public struct AppDependencies: Sendable {
    /// Makes the feature reader. `buildApplication` calls it while the model files are read, so the
    /// embedded store's snapshots and the models load at the same time (a test returns its own store).
    public var features: @Sendable () throws -> any FeatureReader
    /// How the status page names the feature store ("redis", "embedded store").
    public var featureStoreName: String
    public var database: DuetDatabase
    public var clock: any WallClock
    public var metrics: DuetMetrics
    public var logger: Logger

    public init(
        features: @escaping @Sendable () throws -> any FeatureReader, featureStoreName: String, database: DuetDatabase, clock: any WallClock = SystemClock(),
        metrics: DuetMetrics = DuetMetrics(), logger: Logger
    ) {
        self.features = features
        self.featureStoreName = featureStoreName
        self.database = database
        self.clock = clock
        self.metrics = metrics
        self.logger = logger
    }

    /// The SQLite file in the data directory, and features from Redis (`redis`) or else the embedded
    /// store over `FEATURES/snapshots`.
    public static func live(_ configuration: ServerConfiguration, logger: Logger) async throws -> AppDependencies {
        let dataDirectory = URL(fileURLWithPath: configuration.dataDirectory)
        let database = try DuetDatabase(path: dataDirectory.appendingPathComponent("duet.sqlite").path)
        let definitions: [FeatureSetDefinition]
        do {
            definitions = try FeatureSetDefinition.load(directory: configuration.featuresDirectory)
        } catch {
            throw ConfigurationError(message: "--features: \(error)")
        }
        if let url = configuration.redisURL {
            var redisConfiguration = RedisFeatureStore.Configuration()
            redisConfiguration.budget = configuration.featureBudget
            redisConfiguration.catalogSets = [configuration.itemFeatureSet]
            let rc = redisConfiguration
            let features: @Sendable () throws -> any FeatureReader = {
                let store: RedisFeatureStore
                do {
                    store = try RedisFeatureStore(url: url, definitions: definitions, configuration: rc)
                } catch {
                    throw ConfigurationError(message: "--redis: \(error)")
                }
                logger.info("features from Redis", metadata: ["url": "\(url)"])
                return store
            }
            return AppDependencies(features: features, featureStoreName: "redis", database: database, logger: logger)
        }
        let snapshots = configuration.featuresDirectory + "/snapshots"
        let features: @Sendable () throws -> any FeatureReader = {
            let store: EmbeddedFeatureStore
            do {
                store = try EmbeddedFeatureStore(snapshotsDirectory: snapshots, definitions: definitions)
            } catch {
                throw ConfigurationError(message: "--features: embedded store from \(snapshots): \(error)")
            }
            logger.info("features from the embedded store (no --redis)", metadata: ["snapshots": "\(snapshots)"])
            return store
        }
        return AppDependencies(features: features, featureStoreName: "embedded store", database: database, logger: logger)
    }
}
