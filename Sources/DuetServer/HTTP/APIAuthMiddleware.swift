import Hummingbird

/// Guards the data plane (`/v1/recommend`, `/v1/feedback`) when API tokens are configured: the bearer
/// token must be one of them, and the name it is bound to becomes `context.actor` (the client the
/// feedback rate limit counts). Without API tokens it is not installed and the routes stay open.
struct APIAuthMiddleware: RouterMiddleware {
    typealias Context = DuetRequestContext
    let auth: BearerAuth

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.actor = try auth.authenticate(request)
        return try await next(request, context)
    }
}
