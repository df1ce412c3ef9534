import Hummingbird

/// Runs the routes behind it on Swift's global pool rather than the connection's event loop: the
/// routes that may block a thread (SQLite writes, model files read and written, the status page, the
/// scrape) or run long. The hot routes (recommend, feedback, the probes) stay on the event loop
/// (`EventLoopChildChannel`).
struct OffEventLoopMiddleware: RouterMiddleware {
    typealias Context = DuetRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await withTaskExecutorPreference(globalConcurrentExecutor) {
            try await next(request, context)
        }
    }
}
