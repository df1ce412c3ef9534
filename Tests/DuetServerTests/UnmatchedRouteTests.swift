import DuetAPI
@testable import DuetServer
import DuetTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// What a request no route matched gets (`UnmatchedRouteMiddleware`): 405 with `Allow` on a known
/// path, 204 with `Allow` for OPTIONS, HEAD as GET without a body, a JSON 404 elsewhere.
@Suite struct UnmatchedRouteTests {
    static func error(_ response: TestResponse) throws -> ErrorBody.Detail {
        try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: response.body)).error
    }

    @Test func anUnregisteredMethodOnAKnownPathIs405WithAllowAndAJSONBody() async throws {
        let config = try TestApp.configuration("app-405")
        let app = try await buildApplication(config, dependencies: TestApp.dependencies(config))
        try await app.test(.router) { client in
            let cases: [(HTTPRequest.Method, String, String)] = [
                (.trace, "/healthz", "GET, HEAD, OPTIONS"),
                (.put, "/", "GET, HEAD, OPTIONS"),
                (.get, "/v1/recommend", "OPTIONS, POST"),
                (.head, "/v1/feedback", "OPTIONS, POST"),
                (HTTPRequest.Method("QUERY")!, "/metrics", "GET, HEAD, OPTIONS"),
                // Before authentication: which methods a documented path has is no secret.
                (.delete, "/v1/admin/experiments/homepage", "GET, HEAD, OPTIONS, PUT"),
                (.patch, "/v1/admin/models/anything/promote", "OPTIONS, POST"),
                (.post, "/v1/admin/experiments", "GET, HEAD, OPTIONS, PUT"),
            ]
            for (method, uri, allow) in cases {
                try await client.execute(uri: uri, method: method) { response in
                    #expect(response.status == .methodNotAllowed, "\(method) \(uri)")
                    #expect(response.headers[.allow] == allow, "\(method) \(uri)")
                    if method != .head {
                        #expect(response.headers[.contentType] == "application/json")
                        let error = try Self.error(response)
                        #expect(error.code == "method_not_allowed", "\(method) \(uri)")
                    }
                }
            }
        }
    }

    @Test func optionsIs204WithAllowAndHeadIsGetWithoutItsBody() async throws {
        let config = try TestApp.configuration("app-options")
        let app = try await buildApplication(config, dependencies: TestApp.dependencies(config))
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/admin/models/static/rollback", method: .options) { response in
                #expect(response.status == .noContent)
                #expect(response.headers[.allow] == "OPTIONS, POST")
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: "/healthz", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                #expect(response.body.readableBytes == 0)
            }
            // HEAD runs the GET's middleware too: the admin routes still want a token.
            try await client.execute(uri: "/v1/admin/models", method: .head) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v1/admin/models", method: .head, headers: AppTests.admin) { #expect($0.status == .ok) }
        }
    }

    @Test func aPathNoRouteHasIsAJSON404() async throws {
        let config = try TestApp.configuration("app-404")
        let app = try await buildApplication(config, dependencies: TestApp.dependencies(config))
        try await app.test(.router) { client in
            for (method, uri) in [(HTTPRequest.Method.get, "/nope"), (.options, "/v1"), (.trace, "/v1/admin/models/static/rollback/more")] {
                try await client.execute(uri: uri, method: method) { response in
                    #expect(response.status == .notFound, "\(method) \(uri)")
                    let error = try Self.error(response)
                    #expect(error.code == "not_found", "\(method) \(uri)")
                    #expect(response.headers[.allow] == nil)
                }
            }
        }
    }

    /// The router and the document agree path by path: OPTIONS on each documented path lists exactly
    /// its documented methods, with HEAD where there is a GET, and OPTIONS.
    @Test func optionsListsEveryDocumentedPathsMethods() async throws {
        let config = try TestApp.configuration("app-allow")
        let app = try await buildApplication(config, dependencies: TestApp.dependencies(config))
        let doc = try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.bytes)) as! [String: Any]
        let documented: [String: Set<String>] = (doc["paths"] as! [String: [String: Any]]).mapValues { operations in
            var methods = Set(operations.keys.filter { $0 != "parameters" }.map { $0.uppercased() })
            if methods.contains("GET") { methods.insert("HEAD") }
            methods.insert("OPTIONS")
            return methods
        }
        try await app.test(.router) { client in
            for (path, methods) in documented {
                let uri = path.replacingOccurrences(of: #"\{[^}]+\}"#, with: "x", options: .regularExpression)
                try await client.execute(uri: uri, method: .options) { response in
                    #expect(response.status == .noContent, "\(path)")
                    let allow = Set((response.headers[.allow] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                    #expect(allow == methods, "\(path)")
                }
            }
        }
    }

    @Test func theMostSpecificPatternAnswers() {
        let router = Router(context: DuetRequestContext.self)
        router.get("/a/b") { _, _ in "" }
        router.post("/a/{x}") { _, _ in "" }
        router.put("/a/{x}/c") { _, _ in "" }
        let unmatched = UnmatchedRouteMiddleware(routes: router.routes)
        #expect(unmatched.resource(for: "/a/b")?.allow == [.get, .head, .options])
        #expect(unmatched.resource(for: "/a/z")?.allow == [.options, .post])
        #expect(unmatched.resource(for: "/a/b/c")?.allow == [.options, .put])
        #expect(unmatched.resource(for: "//a//z/")?.path.description == "/a/{x}")
        #expect(unmatched.resource(for: "/a") == nil)
        #expect(unmatched.resource(for: "/a/b/c/d") == nil)
    }
}
