import Foundation
import Hummingbird
import NIOCore

/// Reads request bodies whole, up to the configured limit (413 `body_too_large` beyond it).
struct BodyLimit: Sendable {
    let maxBytes: Int

    func buffer(_ request: Request) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: maxBytes)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, code: "body_too_large", message: "request body is larger than \(maxBytes) bytes")
        }
    }

    func data(_ request: Request) async throws -> Data {
        Data(buffer: try await buffer(request))
    }
}
