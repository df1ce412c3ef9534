import Hummingbird

/// Records every request's latency and status under its route pattern (never the raw URI), with the
/// experiment and arm the handler reported. Sits outside `ErrorMappingMiddleware`, so it sees the
/// status the client gets.
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = DuetRequestContext
    let metrics: DuetMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(context, status: response.status.code, start: start)
            return response
        } catch {
            record(context, status: (error as? any HTTPResponseError)?.status.code ?? 500, start: start)
            throw error
        }
    }

    func record(_ context: Context, status: Int, start: ContinuousClock.Instant) {
        let labels = context.labels.value.withLock { $0 }
        metrics.recordRequest(route: context.endpointPath ?? "unmatched", experiment: labels.experiment, arm: labels.arm,
                              status: status, duration: .now - start)
    }
}
