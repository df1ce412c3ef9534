import Foundation

/// A real `redis-server` on a free loopback port, started by a test and stopped by it.
///
///     let redis = try RedisServer.start()
///     defer { redis.stop() }
///     // use redis.url
public final class RedisServer: @unchecked Sendable {
    public let port: Int
    private let directory: URL
    private var process: Process?

    public var url: String { "redis://127.0.0.1:\(port)" }

    private init(port: Int, directory: URL) {
        self.port = port
        self.directory = directory
    }

    /// Starts a server with no persistence on a free port and waits until it accepts connections.
    public static func start() throws -> RedisServer {
        let server = RedisServer(port: TestSupport.freePort(), directory: try TestSupport.temporaryDirectory("redis"))
        try server.launch()
        return server
    }

    /// Starts the server again on the same port (after `kill()`).
    public func launch() throws {
        let candidates = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw RedisServerError(message: "redis-server not found (apt-get install redis-server)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = [
            "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", directory.path, "--daemonize", "no", "--loglevel", "warning",
        ]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        process = p
        guard TestSupport.waitForPort(port, timeout: 10) else {
            p.terminate()
            throw RedisServerError(message: "redis-server did not listen on port \(port)")
        }
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    public func kill() {
        guard let p = process else { return }
        Foundation.kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        process = nil
    }

    /// Stops the server and removes its directory.
    public func stop() {
        if let p = process {
            TestSupport.terminate(p, grace: 1)
            process = nil
        }
        try? FileManager.default.removeItem(at: directory)
    }

    deinit {
        if let p = process, p.isRunning { Foundation.kill(p.processIdentifier, SIGKILL) }
    }
}

public struct RedisServerError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
