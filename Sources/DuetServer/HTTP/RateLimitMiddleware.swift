import Foundation
import Hummingbird
import Synchronization

/// A token bucket per client (`context.actor`, the API token's name; without API tokens the peer's
/// address): `rate` requests per second, bursts of `2·rate`.
/// Past it a request is a 429 with `Retry-After`, and changes nothing. Clients idle long enough to
/// have a full bucket are forgotten, so the table stays bounded by the clients of the last seconds.
final class RateLimitMiddleware: RouterMiddleware, Sendable {
    typealias Context = DuetRequestContext

    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let rate: Double
    let burst: Double
    let metrics: DuetMetrics
    private let buckets = Mutex<[String: Bucket]>([:])
    /// Most clients tracked at once; past it the idle ones are swept.
    static let maxClients = 100_000

    init(rate: Double, metrics: DuetMetrics) {
        self.rate = rate
        self.burst = max(1, 2 * rate)
        self.metrics = metrics
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let client = context.actor ?? context.channel.remoteAddress?.ipAddress ?? "unknown"
        guard take(client, now: .now) else {
            metrics.feedbackRejected("rate_limited").increment()
            var error = APIError(.tooManyRequests, code: "rate_limited", message: "client '\(client)' sends feedback faster than \(rate) per second")
            error.retryAfterSeconds = max(1, Int((1 / rate).rounded(.up)))
            throw error
        }
        return try await next(request, context)
    }

    /// Takes one token from `client`'s bucket; false when it is empty.
    func take(_ client: String, now: ContinuousClock.Instant) -> Bool {
        buckets.withLock { all in
            var b = all[client] ?? Bucket(tokens: burst, updated: now)
            let elapsed = b.updated.duration(to: now)
            b.tokens = min(burst, b.tokens + rate * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
            b.updated = now
            let ok = b.tokens >= 1
            if ok { b.tokens -= 1 }
            all[client] = b
            if all.count > Self.maxClients {
                // A bucket refilled to its burst holds no state worth keeping.
                let full = burst / rate
                all = all.filter { $0.value.updated.duration(to: now) < .seconds(full) }
            }
            return ok
        }
    }
}
