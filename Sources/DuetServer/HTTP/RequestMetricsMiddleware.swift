import Hummingbird
import NIOHTTP1

/// Records every request's latency and status under its route pattern (never the raw URI), with the
/// experiment and arm the handler reported. Sits outside `ErrorMappingMiddleware`, so it sees the
/// status the client gets. A request whose client hung up before the answer (mid-body, say) is
/// recorded as 499 (nginx's "client closed request"), not as a server error.
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
            record(context, status: Self.status(of: error, context: context), start: start)
            throw error
        }
    }

    /// The status an error stands for: its own (`HTTPResponseError`), 499 when the client went away
    /// (its request ended before its declared body, or the connection is gone), else 500.
    static func status(of error: any Error, context: Context) -> Int {
        if let e = error as? any HTTPResponseError { return e.status.code }
        if let e = error as? HTTPParserError { return e == .invalidEOFState ? clientClosed : 400 }
        return context.channel.isActive ? 500 : clientClosed
    }

    static let clientClosed = 499

    func record(_ context: Context, status: Int, start: ContinuousClock.Instant) {
        let labels = context.labels.value.withLock { $0 }
        metrics.recordRequest(route: context.endpointPath ?? "unmatched", experiment: labels.experiment, arm: labels.arm,
                              status: status, duration: .now - start)
    }
}
