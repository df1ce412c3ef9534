import Hummingbird

/// Guards a route group with bearer tokens: the admin tokens on `/v1/admin`, the API tokens on the
/// data plane (`/v1/recommend`, `/v1/feedback`) when any are configured. The name a token is bound to
/// becomes `context.actor`: who the audit log records, or the client the feedback rate limit counts.
struct BearerAuthMiddleware: RouterMiddleware {
    typealias Context = DuetRequestContext
    let auth: BearerAuth

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.actor = try auth.authenticate(request)
        return try await next(request, context)
    }
}
