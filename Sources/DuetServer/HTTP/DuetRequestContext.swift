import Hummingbird
import NIOCore
import Synchronization

/// Labels a handler fills in while it works, so the request metrics know the experiment and arm.
public struct RequestLabels: Sendable {
    public var experiment = ""
    public var arm = ""
    public init() {}
}

/// The request context of every Duet route: Hummingbird's core storage, the admin actor (set by
/// `BearerAuthMiddleware`), and the labels a handler reports to
/// `RequestMetricsMiddleware`. Middleware sees the context by value, so the labels live in a box
/// (as Hummingbird's own `endpointPath` does).
public struct DuetRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Who is calling, by the name bound to their admin token.
    public var actor: String?
    let labels: LabelBox
    /// The connection (to stop reading a body the server refused).
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        labels = LabelBox()
        channel = source.channel
    }

    /// Records the experiment and arm of this request for its metrics.
    func label(_ value: RequestLabels) { labels.value.withLock { $0 = value } }

    /// The box holding a request's labels.
    final class LabelBox: Sendable {
        let value = Mutex(RequestLabels())
    }
}
