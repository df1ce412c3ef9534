import Hummingbird

/// Guards the data plane (`/v1/recommend`, `/v1/feedback`) when API tokens are configured: the bearer
/// token must be one of them, and the name it is bound to becomes `context.actor` (the client the
/// feedback rate limit counts). Without API tokens the routes stay open and the client is the peer's address.
struct APIAuthMiddleware: RouterMiddleware {
    typealias Context = DuetRequestContext
    /// Nil: the data plane is open.
    let auth: BearerAuth?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let auth {
            context.actor = try auth.authenticate(request)
        } else {
            context.actor = context.channel.remoteAddress?.ipAddress ?? "unknown"
        }
        return try await next(request, context)
    }
}
