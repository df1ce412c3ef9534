import Hummingbird

/// Guards the `/v1/admin` group: the bearer token must be one of the configured ones; the name it is
/// bound to becomes `context.actor` (what the audit log records).
struct AdminAuthMiddleware: RouterMiddleware {
    typealias Context = DuetRequestContext
    let auth: BearerAuth

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.actor = try auth.authenticate(request)
        return try await next(request, context)
    }
}
