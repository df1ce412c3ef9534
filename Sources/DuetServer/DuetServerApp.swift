import Foundation
import Hummingbird
import Logging

/// Entry point for `duet serve` and for the tests: builds the application from a configuration.
public enum DuetServerApp {
    /// Builds and runs the server until SIGTERM/SIGINT, then drains in-flight requests and stops.
    public static func run(_ configuration: ServerConfiguration) async throws {
        var logger = Logger(label: "duet")
        logger.logLevel = ProcessInfo.processInfo.environment["DUET_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let app = try await buildApplication(configuration, logger: logger)
        try await app.runService()
    }

    /// The one place the server is assembled, for the executable and the tests alike.
    public static func buildApplication(
        _ configuration: ServerConfiguration, logger: Logger
    ) async throws -> some ApplicationProtocol {
        let started = ContinuousClock.now
        let runtime = try await DuetRuntime(configuration: configuration, logger: logger)
        let router = Router(context: BasicRequestContext.self)
        runtime.addRoutes(to: router)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "duet"),
            services: runtime.services,
            onServerRunning: { _ in
                let elapsed = ContinuousClock.now - started
                logger.info("duet serving", metadata: [
                    "address": "http://\(configuration.host):\(configuration.port)",
                    "startup_ms": "\(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)",
                ])
            },
            logger: logger
        )
        return app
    }
}
