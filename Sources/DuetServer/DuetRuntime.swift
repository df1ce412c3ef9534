import Atomics
import DuetFeatures
import DuetModels
import DuetStore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// Everything the server holds while it runs. Requests read immutable snapshots from it (route table,
/// model versions, feature-version pointers); writers swap whole snapshots.
public final class DuetRuntime: Sendable {
    public let configuration: ServerConfiguration
    public let logger: Logger
    public let metrics: DuetMetrics
    public let database: DuetDatabase
    public let auth: AdminAuth
    public let experiments: ExperimentControl
    public let models: ModelManager
    public let features: any FeatureReader
    let impressions: ImpressionStore<Impression>
    /// Prepared users (about 3 KB each with 80 affinity fields) and candidates, per generation.
    let preparedUsers = PreparedCache<PreparedUser>(capacity: 50_000)
    let preparedCandidates = CandidateTable()
    let guardrail: Guardrail
    private let reportedFeatures = Mutex(FeatureStoreMetrics())
    private let reportedPrepared = Mutex([String: Int]())

    init(configuration: ServerConfiguration, logger: Logger) async throws {
        self.configuration = configuration
        self.logger = logger
        self.metrics = DuetMetrics()
        self.auth = AdminAuth(tokens: configuration.adminTokens)
        let dataDirectory = URL(fileURLWithPath: configuration.dataDirectory)
        let database = try DuetDatabase(path: dataDirectory.appendingPathComponent("duet.sqlite").path)
        self.database = database
        let metrics = self.metrics
        // The models (file reads and checksums) load while the feature store loads its snapshots.
        async let loadedModels = ModelManager(configuration: configuration, database: database, metrics: metrics, logger: logger)
        self.experiments = try await ExperimentControl(
            database: database, directory: configuration.experimentsDirectory, metrics: metrics, logger: logger)
        let definitions: [FeatureSetDefinition]
        do {
            definitions = try FeatureSetDefinition.load(directory: configuration.featuresDirectory)
        } catch {
            throw ConfigurationError(message: "--features: \(error)")
        }
        if let url = configuration.redisURL {
            var rc = RedisFeatureStore.Configuration()
            rc.budget = configuration.featureBudget
            do {
                self.features = try RedisFeatureStore(url: url, definitions: definitions, configuration: rc)
            } catch {
                throw ConfigurationError(message: "--redis: \(error)")
            }
            logger.info("features from Redis", metadata: ["url": "\(url)"])
        } else {
            let snapshots = configuration.featuresDirectory + "/snapshots"
            do {
                self.features = try EmbeddedFeatureStore(snapshotsDirectory: snapshots, definitions: definitions)
            } catch {
                throw ConfigurationError(message: "--features: embedded store from \(snapshots): \(error)")
            }
            logger.info("features from the embedded store (no --redis)", metadata: ["snapshots": "\(snapshots)"])
        }
        self.models = try await loadedModels
        self.impressions = ImpressionStore(capacity: configuration.impressionCapacity, ttl: configuration.impressionTTL)
        self.guardrail = Guardrail(models: models, experiments: experiments, logger: logger)
        if configuration.adminTokens.isEmpty {
            logger.warning("no --admin-token: admin routes refuse every request")
        }
    }

    /// Long-running work the application's ServiceGroup owns (started with it, stopped on SIGTERM).
    var services: [any Service] { models.services }

    /// True when every slot an experiment needs has a model.
    var isReady: Bool { models.isReady }

    /// How many versions a model slot keeps in memory (nil: no such slot).
    func versionCount(slot: String) -> Int? { models.slot(slot)?.versions.count }

    func statusSlots() -> [StatusPage.Slot] {
        models.slots.map { slot in
            let current = slot.current?.id
            return StatusPage.Slot(name: slot.name, versions: slot.versions.reversed().map {
                StatusPage.Version(id: $0.id, createdAt: $0.createdAt.timeIntervalSince1970, examples: $0.examples, logloss: $0.metrics.logloss, current: $0.id == current)
            })
        }
    }

    func statusFeatureVersions() async -> [(set: String, version: String)] {
        await features.currentVersions().sorted { $0.key < $1.key }.map { (set: $0.key, version: $0.value) }
    }

    /// Brings the counters kept by the feature store and the learner into Prometheus (at scrape time).
    func reportCounters() {
        models.reportLearnerMetrics()
        let now = features.metrics()
        let before = reportedFeatures.withLock { r -> FeatureStoreMetrics in defer { r = now }; return r }
        if now.cacheHits > before.cacheHits { metrics.featureCacheHits.increment(by: Int64(now.cacheHits - before.cacheHits)) }
        if now.cacheMisses > before.cacheMisses { metrics.featureCacheMisses.increment(by: Int64(now.cacheMisses - before.cacheMisses)) }
        if now.redisErrors > before.redisErrors { metrics.redisErrors.increment(by: Int64(now.redisErrors - before.redisErrors)) }
        if now.degradedReads > before.degradedReads { metrics.featureDegraded.increment(by: Int64(now.degradedReads - before.degradedReads)) }
        let prepared = [
            ("user", "hit", preparedUsers.hits), ("user", "miss", preparedUsers.misses),
            ("candidate", "hit", preparedCandidates.hits), ("candidate", "miss", preparedCandidates.misses),
        ]
        for (kind, result, counter) in prepared {
            let value = counter.load(ordering: .relaxed)
            let last = reportedPrepared.withLock { r in defer { r[kind + result] = value }; return r[kind + result] ?? 0 }
            metrics.counter("duet_prepared_features_total", labels: [("kind", kind), ("result", result)],
                            help: "Users and candidates whose named and hashed features were reused (hit) or prepared (miss)")
                .increment(by: Int64(max(0, value - last)))
        }
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        addExperimentRoutes(to: router)
        addServingRoutes(to: router)
        addModelRoutes(to: router)
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        router.get("/") { [self] _, _ in
            try await metrics.timed("/") { _ in
                let html = try await statusPage().render()
                return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
            }
        }
        router.get("/healthz") { _, _ in
            try JSONResponse.make(["status": "ok"])
        }
        router.get("/readyz") { [self] _, _ in
            try JSONResponse.make(["status": isReady ? "ready" : "not ready"], status: isReady ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { [self] _, _ in
            reportCounters()
            for (key, p) in experiments.srm() {
                metrics.gauge("duet_srm_p_value", label: "experiment", value: key, help: "Sample-ratio-mismatch chi-square p-value of the live revision").set(to: p)
            }
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.emit()))
            )
        }
    }
}
