import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix

/// Entry point for `duet serve`.
public enum DuetServerApp {
    /// Builds the server on its live dependencies and runs it until SIGTERM/SIGINT, then drains
    /// in-flight requests and stops.
    public static func run(_ configuration: ServerConfiguration) async throws {
        var logger = Logger(label: "duet")
        logger.logLevel = ProcessInfo.processInfo.environment["DUET_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        // A request is read on an event loop; on Swift's own pool its handler would then run on another
        // thread, and its answer hop back: two wake-ups per request (without them recommend/healthz is
        // 1.12×; BENCHMARKS.md). What may block runs on `BackgroundExecutor` instead.
        if configuration.executor == .eventLoops, !NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor() {
            logger.warning("executor: could not install the event loops as Swift's global executor; tasks run on Swift's pool")
        }
        // Start-up reads files and opens SQLite: on the background threads, as everything that may block.
        let (lock, app) = try await withTaskExecutorPreference(BackgroundExecutor.shared) {
            // Before anything in the data directory is read: a second server there stops here.
            let lock = try DataDirectoryLock(directory: configuration.dataDirectory)
            return (lock, try await buildApplication(configuration, dependencies: .live(configuration, logger: logger)))
        }
        try await app.runService()
        withExtendedLifetime(lock) {}
    }
}
