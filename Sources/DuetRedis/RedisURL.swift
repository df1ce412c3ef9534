import Foundation

/// A parsed `redis://[[user]:password@]host[:port][/db]` address.
public struct RedisURL: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var password: String?
    public var username: String?
    public var database: Int

    public init(host: String = "127.0.0.1", port: Int = 6379, password: String? = nil, username: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.password = password
        self.username = username
        self.database = database
    }

    /// Parses `redis://…`; throws a clear error for anything else.
    public init(parsing text: String) throws {
        func fail(_ why: String) -> RedisError { RedisError(.invalidURL, "invalid Redis URL \(text): \(why)") }
        guard text.hasPrefix("redis://") else { throw fail("expected redis://[:password@]host:port[/db]") }
        guard let c = URLComponents(string: text), let host = c.host, !host.isEmpty else { throw fail("no host") }
        self.host = host == "localhost" ? "127.0.0.1" : host
        self.port = c.port ?? 6379
        guard (1...65535).contains(port) else { throw fail("bad port") }
        self.password = c.password.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding ?? $0 }
        self.username = c.user.flatMap { $0.isEmpty ? nil : $0 }
        let path = c.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if path.isEmpty {
            database = 0
        } else {
            guard let db = Int(path), db >= 0 else { throw fail("database must be a number") }
            database = db
        }
    }

    /// The address without the password (for logs and errors).
    public var description: String { "redis://\(host):\(port)\(database == 0 ? "" : "/\(database)")" }
}
