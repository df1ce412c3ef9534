import DuetAPI
import Hummingbird
import NIOCore

/// The routes for people and probes: the status page, liveness, readiness, metrics, the API document.
struct StatusController: Sendable {
    let status: StatusReporter
    let scrape: ScrapeCollector
    let models: ModelRegistry
    let auth: BearerAuth

    /// The status page (timed like the API); the audit rows (who changed what) only with an admin token.
    func addPage(to group: RouterGroup<DuetRequestContext>) {
        group.get("/") { request, _ in
            let html = try await status.page(withAudit: auth.isAdmin(request)).render()
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
        }
    }

    /// Liveness, readiness, the scrape and the API document: not timed (probes would drown the API's figures).
    func addProbes(to router: Router<DuetRequestContext>) {
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.bytes)))
        }
        router.get("/healthz") { _, _ in
            try JSONResponse.make(StatusBody(status: "ok"))
        }
        router.get("/readyz") { _, _ in
            let ready = models.isReady
            return try JSONResponse.make(StatusBody(status: ready ? "ready" : "not ready"), status: ready ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: scrape.scrape())))
        }
    }
}
