import ArgumentParser
import DuetAPI
import DuetFeatures
import Foundation

/// Options shared by every command that talks to a running server's admin API.
struct ServerOptions: ParsableArguments {
    @Option(name: .long, help: "Server URL (env DUET_SERVER; default http://127.0.0.1:8080).")
    var server: String?

    @Option(name: .long, help: "Admin bearer token (env DUET_TOKEN).")
    var token: String?

    var client: AdminClient {
        get throws {
            let env = ProcessInfo.processInfo.environment
            let base = server ?? env["DUET_SERVER"] ?? "http://127.0.0.1:8080"
            guard let url = URL(string: base), url.scheme == "http" || url.scheme == "https" else {
                throw CLIError("--server: '\(base)' is not an http(s) URL")
            }
            return AdminClient(base: url, token: token ?? env["DUET_TOKEN"])
        }
    }
}

/// A one-line CLI failure: printed to stderr, exit code 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}

/// A small HTTP client for the admin API, over libcurl (`HTTPFetcher`): a CLI process starts and
/// finishes a call in a few milliseconds, where loading URLSession alone took about 10 ms.
struct AdminClient {
    var base: URL
    var token: String?

    struct Reply {
        var status: Int
        var body: Data
    }

    func send(_ method: String, _ path: String, body: Data? = nil, contentType: String = "application/json") async throws -> Reply {
        guard let url = URL(string: path, relativeTo: base) else { throw CLIError("bad path \(path)") }
        var headers: [String: String] = [:]
        if let token { headers["Authorization"] = "Bearer \(token)" }
        if body != nil { headers["Content-Type"] = contentType }
        var fetcher = HTTPFetcher()
        fetcher.connectTimeout = 10
        fetcher.stallTimeout = 30
        do {
            let (status, data) = try fetcher.request(method, url.absoluteString, headers: headers, body: body)
            return Reply(status: status, body: data)
        } catch let error as FeatureError {
            throw CLIError("\(method) \(url.absoluteString): \(error.cause ?? error.message)")
        }
    }

    /// Sends `body` (JSON) and decodes the answer as `Response` (the server's own `DuetAPI` type), or
    /// throws a one-line error with the server's message on a non-2xx status.
    func call<Response: Decodable>(_ method: String, _ path: String, body: (any Encodable)? = nil, as: Response.Type = Response.self) async throws -> Response {
        let reply = try await send(method, path, body: try body.map { try JSONEncoder().encode($0) })
        try Self.check(reply, method: method, path: path)
        return try Self.decode(Response.self, reply, method: method, path: path)
    }

    static func decode<Response: Decodable>(_ type: Response.Type, _ reply: Reply, method: String, path: String) throws -> Response {
        do {
            return try JSONDecoder().decode(type, from: reply.body)
        } catch {
            throw CLIError("\(method) \(path): the server's answer is not a \(type): \(error)")
        }
    }

    /// The server's error body, when the reply carries one.
    static func error(_ reply: Reply) -> ErrorBody.Detail? {
        try? JSONDecoder().decode(ErrorBody.self, from: reply.body).error
    }

    static func check(_ reply: Reply, method: String, path: String) throws {
        guard (200..<300).contains(reply.status) else {
            var message = String(decoding: reply.body, as: UTF8.self)
            if let error = error(reply) {
                message = error.message
                if let details = error.details, !details.isEmpty {
                    message += "\n" + details.joined(separator: "\n")
                }
            }
            throw CLIError("\(method) \(path): HTTP \(reply.status): \(message)")
        }
    }
}
