import Foundation
import Hummingbird
import NIOCore

/// Reads request bodies whole, up to the configured limit (413 `body_too_large` beyond it). A
/// `Content-Length` over the limit is refused before any of the body is read; either way the 413 is
/// the last answer on the connection, and the rest of the body is dropped as it arrives
/// (`ConnectionGovernor`'s lingering close) rather than parsed.
struct BodyLimit: Sendable {
    let maxBytes: Int

    func buffer(_ request: Request, context: DuetRequestContext) async throws -> ByteBuffer {
        // The first field, not `headers[.contentLength]`, which joins every value into a new string
        // (NIO's parser refuses a request whose Content-Length fields disagree).
        if let declared = request.headers.first(where: { $0.name == .contentLength }).flatMap({ Int($0.value) }), declared > maxBytes {
            throw tooLarge
        }
        do {
            return try await request.body.collect(upTo: maxBytes)
        } catch is NIOTooManyBytesError {
            throw tooLarge
        }
    }

    var tooLarge: APIError {
        APIError(.contentTooLarge, code: "body_too_large", message: "request body is larger than \(maxBytes) bytes")
    }

    func data(_ request: Request, context: DuetRequestContext) async throws -> Data {
        Data(buffer: try await buffer(request, context: context))
    }
}
