import DuetAPI
import Hummingbird
import NIOCore

/// `POST /v1/recommend` and `POST /v1/feedback`: bodies read and answers written by `DuetAPI`'s
/// hot-path readers and writers.
struct ServingController: Sendable {
    let recommend: RecommendService
    let feedback: FeedbackService
    let body: BodyLimit
    /// The feedback rate limit (nil: none).
    let feedbackLimit: RateLimitMiddleware?

    func addRoutes(to v1: RouterGroup<DuetRequestContext>) {
        v1.post("recommend") { request, context in
            let buffer = try await body.buffer(request, context: context)
            let r = try buffer.withUnsafeReadableBytes { try RecommendRequest(json: $0) }
            var labels = RequestLabels()
            defer { context.label(labels) }
            let answer = try await recommend.recommend(r, labels: &labels)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: answer.json)))
        }
        let feedbackGroup = feedbackLimit.map { v1.group().add(middleware: $0) } ?? v1.group()
        feedbackGroup.post("feedback") { request, context in
            let buffer = try await body.buffer(request, context: context)
            let r = try buffer.withUnsafeReadableBytes { try FeedbackRequest(json: $0) }
            var labels = RequestLabels()
            defer { context.label(labels) }
            return try JSONResponse.make(try await feedback.feedback(r, labels: &labels))
        }
    }
}
