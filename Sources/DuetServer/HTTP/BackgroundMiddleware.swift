import Hummingbird

/// Runs a route group's handlers on the `BackgroundExecutor`: the admin routes read and write model
/// and experiment files, wait on SQLite and on the cluster, none of which an event loop may do. The
/// data plane stays on the event loops (its Redis calls already run on the worker pool's threads).
struct BackgroundMiddleware: RouterMiddleware {
    typealias Context = DuetRequestContext
    let executor: BackgroundExecutor

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await withTaskExecutorPreference(executor) { try await next(request, context) }
    }
}
