import Hummingbird

/// Checks `Authorization: Bearer <token>` against the configured named tokens (the admin tokens, or
/// the data plane's API tokens).
///
/// The comparison takes the same time whatever the token's content (no early exit), so timing
/// does not reveal how much of a guess was right.
public struct BearerAuth: Sendable {
    let tokens: [(name: String, token: [UInt8])]
    /// What the tokens are for, in error messages ("admin", "API").
    let kind: String

    public init(tokens: [String: String], kind: String = "admin") {
        self.tokens = tokens.sorted { $0.key < $1.key }.map { ($0.key, Array($0.value.utf8)) }
        self.kind = kind
    }

    /// The name bound to the request's token, or an `APIError` (401).
    public func authenticate(_ request: Request) throws -> String {
        guard !tokens.isEmpty else {
            throw APIError(.unauthorized, code: "admin_disabled", message: "admin API disabled: start duet serve with --admin-token")
        }
        guard let given = Self.bearerToken(request.headers[.authorization]) else {
            throw APIError(.unauthorized, code: "unauthorized", message: "missing 'Authorization: Bearer <\(kind) token>' header")
        }
        var match: String?
        for (name, token) in tokens where Self.constantTimeEqual(given, token) {
            match = name
        }
        guard let match else {
            throw APIError(.unauthorized, code: "unauthorized", message: "invalid \(kind) token")
        }
        return match
    }

    /// True when the request carries one of the tokens (no error: for pages that show less to anonymous callers).
    public func isAdmin(_ request: Request) -> Bool {
        (try? authenticate(request)) != nil
    }

    /// The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive (RFC 9110 §11.1).
    static func bearerToken(_ header: String?) -> [UInt8]? {
        guard let header, header.utf8.count > 7, header.utf8.prefix(7).map({ $0 | 0x20 }) == Array("bearer ".utf8),
              header.utf8.prefix(6).allSatisfy({ ($0 | 0x20) >= UInt8(ascii: "a") && ($0 | 0x20) <= UInt8(ascii: "z") })
        else { return nil }
        let token = header.utf8.dropFirst(7).drop { $0 == UInt8(ascii: " ") }
        return token.isEmpty ? nil : Array(token)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(truncatingIfNeeded: a.count ^ b.count)
        let n = max(a.count, b.count)
        for i in 0..<n {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            diff |= x ^ y
        }
        return diff == 0
    }
}
