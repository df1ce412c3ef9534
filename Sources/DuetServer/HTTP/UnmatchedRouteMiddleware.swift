import Hummingbird

/// What a request that no route matched gets: on a path the router knows under other methods,
/// `OPTIONS` is a 204 and any other method a 405 `method_not_allowed`, both with `Allow` (RFC 9110
/// §15.5.6, §9.3.7); a path the router does not know is a 404 `not_found`. The errors carry the same
/// JSON body as every other (`APIError`).
///
/// Added to the router after every route, so it wraps only Hummingbird's not-found responder: a
/// request that matched a route never passes through it. (`HEAD` on a `GET` route is answered by the
/// router itself, as the `GET` without its body: `RouterOptions.autoGenerateHeadEndpoints`.)
///
///     router.add(middleware: UnmatchedRouteMiddleware(routes: router.routes))   // after the last route
struct UnmatchedRouteMiddleware: RouterMiddleware {
    typealias Context = DuetRequestContext

    /// One path pattern and the methods registered on it.
    struct Resource {
        let path: RouterPath
        /// Sorted, as sent in `Allow`: the registered methods, `HEAD` where there is a `GET`, and `OPTIONS`.
        let allow: [HTTPRequest.Method]
    }

    let resources: [Resource]

    init(routes: [Router<Context>.RouteDescription]) {
        var methods: [String: (path: RouterPath, methods: Set<HTTPRequest.Method>)] = [:]
        for route in routes {
            methods[route.path.description, default: (route.path, [])].methods.insert(route.method)
        }
        resources = methods.values.map { entry in
            var allow = entry.methods
            if allow.contains(.get) { allow.insert(.head) }
            allow.insert(.options)
            return Resource(path: entry.path, allow: allow.sorted { $0.rawValue < $1.rawValue })
        }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let resource = resource(for: request.uri.path) else {
            throw APIError(.notFound, code: "not_found", message: "no route for \(request.uri.path)")
        }
        let allow = resource.allow.map(\.rawValue).joined(separator: ", ")
        if request.method == .options {
            return Response(status: .noContent, headers: [.allow: allow])
        }
        var error = APIError(.methodNotAllowed, code: "method_not_allowed",
                             message: "\(request.method.rawValue) is not allowed on \(resource.path); allowed: \(allow)")
        error.allow = allow
        throw error
    }

    /// The resource the router would have chosen for `path` had the method matched: among the
    /// patterns that match, the most specific (a literal element beats a capture, leftmost first).
    func resource(for path: String) -> Resource? {
        let elements = path.split(separator: "/")
        var best: (resource: Resource, rank: [Bool])?
        for resource in resources where Self.matches(resource.path, elements) {
            let rank = resource.path.components.map(Self.isLiteral)
            if let b = best, !rank.lexicographicallyPrecedes(b.rank, by: { $0 && !$1 }) { continue }
            best = (resource, rank)
        }
        return best?.resource
    }

    static func matches(_ pattern: RouterPath, _ elements: [Substring]) -> Bool {
        let components = pattern.components
        for (i, component) in components.enumerated() {
            if component == .recursiveWildcard { return elements.count >= i }
            guard i < elements.count, component ~= elements[i] else { return false }
        }
        return components.count == elements.count
    }

    static func isLiteral(_ element: RouterPath.Element) -> Bool {
        element == .path(Substring(element.description))
    }
}
