import DuetModels
import DuetRouting
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Makes the newest file of `DATA_DIR/models/static/*.duet` the static model: every file at start
/// (oldest first, so the newest wins), then each file renamed into or written to the directory
/// (inotify, on its own thread). After each static model it starts the online learner if it waits
/// for one (`LearnerService.start`).
final class StaticModelWatcher: Service, Sendable {
    let directory: String
    let registry: ModelRegistry
    let learner: LearnerService
    let metrics: DuetMetrics
    let logger: Logger

    init(dataDirectory: String, registry: ModelRegistry, learner: LearnerService, metrics: DuetMetrics, logger: Logger) throws {
        directory = dataDirectory + "/models/static"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.registry = registry
        self.learner = learner
        self.metrics = metrics
        self.logger = logger
    }

    /// Loads every static file of the directory, oldest first: a refused file is logged, counted and
    /// skipped, so the newest file that reads ends up current.
    func loadExisting() async {
        let files = ModelFiles.list(in: directory)
        if files.isEmpty {
            logger.warning("no static model yet: /readyz stays 503 until a file arrives", metadata: ["directory": "\(directory)"])
        }
        for file in files {
            do {
                try await load(path: file, actor: "startup")
            } catch {
                refused(file, error)
            }
        }
    }

    /// Logs a file that did not become the static model, and counts it when the file itself was refused.
    func refused(_ file: String, _ error: any Error) {
        if let e = error as? ModelFileError {
            metrics.modelFilesRefused(e.reason).increment()
            logger.error("static model file refused", metadata: ["file": "\(file)", "reason": "\(e.reason.rawValue)", "error": "\(e)"])
        } else {
            logger.error("static model file not loaded", metadata: ["file": "\(file)", "error": "\(error)"])
        }
    }

    /// Reads a static model file; its name (without `.duet`) is its version id.
    func load(path: String, actor: String) async throws {
        let version = try ModelFile.read(path: path)
        let id = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        try await registry.publishStatic(version.renamed(id: id, parentID: version.parentID, kind: .static), path: path, actor: actor)
    }

    /// Watches the directory until graceful shutdown.
    func run() async throws {
        let watcher: DirectoryWatcher
        do {
            watcher = try DirectoryWatcher(path: directory) { [self] name in
                guard name.hasSuffix(".duet"), !name.hasPrefix(".") else { return }
                // From the watcher's thread: reading the file may block, so not on an event loop.
                Task(executorPreference: BackgroundExecutor.shared) { [self] in
                    do {
                        try await load(path: directory + "/" + name, actor: "file-watch")
                        try await learner.start()
                    } catch {
                        refused(directory + "/" + name, error)
                    }
                }
            }
        } catch {
            logger.error("cannot watch the static model directory", metadata: ["error": "\(error)"])
            try? await gracefulShutdown()
            return
        }
        watcher.start()
        defer { watcher.stop() }
        try? await gracefulShutdown()
    }
}
