import DuetCluster
import DuetFeatures
import DuetRedis
import DuetStore
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle

/// The one place the server is assembled, for the executable and the tests alike: builds the
/// services from `dependencies` and `configuration`, wires them to the controllers and middleware,
/// and returns the application (its services: the learner and the static-model watcher).
///
///     let app = try await buildApplication(configuration, dependencies: .live(configuration, logger: logger))
///     try await app.runService()
public func buildApplication(
    _ configuration: ServerConfiguration, dependencies: AppDependencies
) async throws -> some ApplicationProtocol {
    let started = ContinuousClock.now
    let logger = dependencies.logger
    // Start-up reads files and SQLite, and the services may block: all of it on the background threads.
    let background = BackgroundExecutor.shared
    let (router, services) = try await withTaskExecutorPreference(background) {
        try await buildRouter(configuration, dependencies: dependencies, background: background)
    }
    let idle = configuration.idleTimeout.components
    let governor = ConnectionGovernor(maxConnections: configuration.maxConnections, headerTimeout: configuration.headerTimeout)
    return Application(
        router: router,
        server: .http1(configuration: .init(
            additionalChannelHandlers: [governor.makeHandler()],
            idleTimeout: .nanoseconds(idle.seconds * 1_000_000_000 + idle.attoseconds / 1_000_000_000))),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "duet"),
        services: services.map { BackgroundService($0, on: background) },
        onServerRunning: { _ in
            let elapsed = ContinuousClock.now - started
            logger.info("duet serving", metadata: [
                "address": "http://\(configuration.host):\(configuration.port)",
                "startup_ms": "\(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)",
            ])
        },
        logger: logger
    )
}

/// The services and the routes, with their middleware: what `buildApplication` serves.
func buildRouter(
    _ configuration: ServerConfiguration, dependencies: AppDependencies, background: BackgroundExecutor = .shared
) async throws -> (router: Router<DuetRequestContext>, services: [any Service]) {
    let logger = dependencies.logger, metrics = dependencies.metrics, database = dependencies.database

    // Models: the registry, the learner, the static files. The files are read while the experiments load.
    let registry = ModelRegistry(
        versionsKept: configuration.versionsKept, database: database, metrics: metrics, clock: dependencies.clock, logger: logger,
        dataDirectory: configuration.dataDirectory)
    let log = try FeedbackLog(
        configuration: .init(directory: configuration.dataDirectory + "/feedback", sync: configuration.feedbackSync),
        logger: logger)
    let learner = try LearnerService(
        dataDirectory: configuration.dataDirectory,
        configuration: .init(publishInterval: configuration.publishInterval, publishEvery: configuration.publishEvery,
                             checkpointInterval: configuration.checkpointInterval),
        log: log, registry: registry, database: database, metrics: metrics, logger: logger)
    let watcher = try StaticModelWatcher(
        dataDirectory: configuration.dataDirectory, registry: registry, learner: learner, metrics: metrics, logger: logger)
    async let modelsLoaded: Void = {
        await watcher.loadExisting()
        registry.restoreStaticChoice()
        try await learner.start()
    }()
    // The feature store (the embedded store reads its snapshots) loads meanwhile.
    async let featuresMade = { try dependencies.features() }()
    let experiments = try await ExperimentControl(
        database: database, directory: configuration.experimentsDirectory, metrics: metrics, logger: logger, models: registry)
    let features = try await featuresMade
    try await modelsLoaded
    // Every version a live experiment pins is held; a missing one keeps the server not ready, and says which arm.
    registry.holdPins(of: experiments.snapshot.table.experiments)

    // Cluster mode: the feedback stream, the trainer lease, versions published to every replica.
    let cluster: ClusterService? = try configuration.cluster.map { name in
        guard let url = configuration.redisURL else { throw ConfigurationError(message: "cluster: needs redis (the cluster lives in Redis)") }
        let redisURL: RedisURL
        do { redisURL = try RedisURL(parsing: url) } catch { throw ConfigurationError(message: "redis: \(error)") }
        return try ClusterService(
            configuration: .init(
                redisURL: redisURL, name: name, replica: configuration.replicaID ?? "\(ProcessInfo.processInfo.hostName)-\(configuration.port)",
                // Listening on every address: the others reach it by its host name.
                address: "\(["0.0.0.0", "::", ""].contains(configuration.host) ? ProcessInfo.processInfo.hostName : configuration.host):\(configuration.port)",
                leaseTTL: configuration.leaseTTL,
                snapshotInterval: configuration.snapshotInterval, impressionTTL: configuration.impressionTTL,
                controlPositionFile: configuration.dataDirectory + "/cluster-control"),
            registry: registry, experiments: experiments, logger: logger)
    }
    if let cluster {
        experiments.distribute(through: cluster)
        registry.distribute(through: cluster)
    }

    // Serving.
    let preparer = FeaturePreparer(features: features, userSet: configuration.userFeatureSet, itemSet: configuration.itemFeatureSet)
    let impressions = ImpressionStore<Impression>(
        capacity: configuration.impressionCapacity, ttl: configuration.impressionTTL, size: { $0.approximateBytes })
    let guardrail = Guardrail(models: registry, experiments: experiments, logger: logger)
    let body = BodyLimit(maxBytes: configuration.maxBodyBytes)
    let auth = BearerAuth(tokens: configuration.adminTokens)
    if configuration.adminTokens.isEmpty {
        logger.warning("no --admin-token: admin routes refuse every request")
    }

    // Probes and the scrape answer untimed (as the load balancer and Prometheus call them, not users);
    // every other route is timed by its pattern, and its domain errors are mapped to HTTP in one place.
    // HEAD on a GET route is the GET without its body.
    let router = Router(context: DuetRequestContext.self, options: .autoGenerateHeadEndpoints)
    let status = StatusController(
        status: StatusReporter(experiments: experiments, models: registry, features: features, database: database,
                               featureStore: dependencies.featureStoreName, cluster: cluster),
        scrape: ScrapeCollector(metrics: metrics, features: features, preparer: preparer, learner: learner, experiments: experiments, impressions: impressions,
                                 cluster: cluster),
        models: registry, auth: auth)
    status.addProbes(to: router)
    let timed = router.group().add(middleware: RequestMetricsMiddleware(metrics: metrics)).add(middleware: ErrorMappingMiddleware())
    status.addPage(to: timed)
    ServingController(
        recommend: RecommendService(
            limits: .init(maxCandidates: configuration.maxCandidates, maxContextKeys: configuration.maxContextKeys,
                          maxStringLength: configuration.maxStringLength),
            experiments: experiments, models: registry, preparer: preparer,
                                    impressions: impressions, cluster: cluster, metrics: metrics),
        feedback: FeedbackService(
            impressions: impressions, log: log, cluster: cluster, experiments: experiments, models: registry, guardrail: guardrail, metrics: metrics, clock: dependencies.clock),
        body: body,
        feedbackLimit: configuration.feedbackRatePerClient > 0 ? RateLimitMiddleware(rate: configuration.feedbackRatePerClient, metrics: metrics) : nil
    ).addRoutes(to: configuration.apiTokens.isEmpty
        ? timed.group("/v1")
        : timed.group("/v1").add(middleware: BearerAuthMiddleware(auth: BearerAuth(tokens: configuration.apiTokens, kind: "API"))))
    let admin = timed.group("/v1/admin").add(middleware: BearerAuthMiddleware(auth: auth)).add(middleware: BackgroundMiddleware(executor: background))
    ExperimentController(experiments: experiments, reporter: ExperimentReporter(experiments: experiments, models: registry, cluster: cluster),
                         database: database, body: body).addRoutes(to: admin)
    ModelController(models: registry, body: body).addRoutes(to: admin)
    ClusterController(cluster: cluster, models: registry, address: "\(configuration.host):\(configuration.port)").addRoutes(to: admin)
    // Last: it wraps only the not-found responder (405 with Allow on a known path, OPTIONS, JSON 404s).
    router.add(middleware: UnmatchedRouteMiddleware(routes: router.routes))
    return (router, [learner, watcher, experiments, ImpressionSweeper(impressions: impressions)] + (cluster.map { [$0] } ?? []))
}
