import Foundation
import Hummingbird
import Logging

/// Entry point for `duet serve`.
public enum DuetServerApp {
    /// Builds the server on its live dependencies and runs it until SIGTERM/SIGINT, then drains
    /// in-flight requests and stops.
    public static func run(_ configuration: ServerConfiguration) async throws {
        var logger = Logger(label: "duet")
        logger.logLevel = ProcessInfo.processInfo.environment["DUET_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        // Before anything in the data directory is read: a second server there stops here.
        let lock = try DataDirectoryLock(directory: configuration.dataDirectory)
        let app = try await buildApplication(configuration, dependencies: .live(configuration, logger: logger))
        try await app.runService()
        withExtendedLifetime(lock) {}
    }
}
