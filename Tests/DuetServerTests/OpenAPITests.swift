@testable import DuetServer
import DuetTestSupport
import Foundation
import Hummingbird
import Logging
import Testing

@Suite struct OpenAPITests {
    static func runtime() async throws -> DuetRuntime {
        var config = ServerConfiguration()
        config.dataDirectory = try TestSupport.temporaryDirectory("openapi").path
        config.experimentsDirectory = TestSupport.packageRoot.appendingPathComponent("experiments").path
        config.featuresDirectory = TestSupport.packageRoot.appendingPathComponent("features").path
        return try await DuetRuntime(configuration: config, logger: Logger(label: "test"))
    }

    @Test func theDocumentIsValidJSONWithPaths() throws {
        let doc = try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as! [String: Any]
        #expect(doc["openapi"] as? String == "3.1.0")
        #expect((doc["paths"] as! [String: Any]).count >= 10)
    }

    @Test func everyRegisteredRouteIsDocumented() async throws {
        let runtime = try await Self.runtime()
        let router = Router(context: BasicRequestContext.self)
        runtime.addRoutes(to: router)
        let doc = try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as! [String: Any]
        let paths = doc["paths"] as! [String: [String: Any]]
        #expect(!router.routes.isEmpty)
        for route in router.routes {
            // Hummingbird prints captures as `{name}`, as OpenAPI does; normalise a `:name` form too.
            let path = "\(route.path)".split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
            let key = path.hasPrefix("/") ? path : "/" + path
            let method = route.method.rawValue.lowercased()
            #expect(paths[key]?[method] != nil, "\(route.method) \(key) is not in the OpenAPI document")
        }
    }
}
