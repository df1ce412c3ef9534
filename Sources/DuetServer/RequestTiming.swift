import Hummingbird

/// Labels a handler fills in while it works, so the latency histogram knows the experiment and arm.
public struct RequestLabels: Sendable {
    public var experiment = ""
    public var arm = ""
}

extension DuetMetrics {
    /// Runs `body`, then records its latency and status under `route` (the route pattern, never the
    /// raw URI) with the experiment and arm the handler set.
    func timed(
        _ route: String, _ body: (inout RequestLabels) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        var labels = RequestLabels()
        do {
            let response = try await body(&labels)
            recordRequest(route: route, experiment: labels.experiment, arm: labels.arm,
                          status: response.status.code, duration: .now - start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            recordRequest(route: route, experiment: labels.experiment, arm: labels.arm, status: status, duration: .now - start)
            throw error
        }
    }
}
