import ArgumentParser
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
        var json: Any? { try? JSONSerialization.jsonObject(with: body) }
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

    /// Sends a request and returns the decoded JSON object, or throws a one-line error with the
    /// server's own message on a non-2xx status.
    func call(_ method: String, _ path: String, json: Any? = nil) async throws -> Any {
        let body = try json.map { try JSONSerialization.data(withJSONObject: $0) }
        let reply = try await send(method, path, body: body)
        try Self.check(reply, method: method, path: path)
        return reply.json ?? [:]
    }

    static func check(_ reply: Reply, method: String, path: String) throws {
        guard (200..<300).contains(reply.status) else {
            var message = String(decoding: reply.body, as: UTF8.self)
            if let obj = reply.json as? [String: Any], let err = obj["error"] as? [String: Any] {
                message = (err["message"] as? String) ?? message
                if let details = err["details"] as? [String], !details.isEmpty {
                    message += "\n" + details.joined(separator: "\n")
                }
            }
            throw CLIError("\(method) \(path): HTTP \(reply.status): \(message)")
        }
    }
}
