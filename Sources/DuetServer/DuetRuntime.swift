import DuetStore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// Everything the server holds while it runs. Requests read immutable snapshots from it (route table,
/// model versions, feature-version pointers); writers swap whole snapshots.
public final class DuetRuntime: Sendable {
    public let configuration: ServerConfiguration
    public let logger: Logger
    public let metrics: DuetMetrics
    public let database: DuetDatabase
    public let auth: AdminAuth
    public let experiments: ExperimentControl

    init(configuration: ServerConfiguration, logger: Logger) async throws {
        self.configuration = configuration
        self.logger = logger
        self.metrics = DuetMetrics()
        self.auth = AdminAuth(tokens: configuration.adminTokens)
        let dataDirectory = URL(fileURLWithPath: configuration.dataDirectory)
        self.database = try DuetDatabase(path: dataDirectory.appendingPathComponent("duet.sqlite").path)
        self.experiments = try await ExperimentControl(
            database: database, directory: configuration.experimentsDirectory, metrics: metrics, logger: logger)
        if configuration.adminTokens.isEmpty {
            logger.warning("no --admin-token: admin routes refuse every request")
        }
    }

    /// Long-running work the application's ServiceGroup owns (started with it, stopped on SIGTERM).
    var services: [any Service] { [] }

    /// True when every slot an experiment needs has a model.
    var isReady: Bool { false }

    /// How many versions a model slot keeps in memory (nil: no such slot).
    func versionCount(slot: String) -> Int? { nil }

    func statusSlots() -> [StatusPage.Slot] { [] }

    func statusFeatureVersions() async -> [(set: String, version: String)] { [] }

    func addRoutes(to router: Router<BasicRequestContext>) {
        addExperimentRoutes(to: router)
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
