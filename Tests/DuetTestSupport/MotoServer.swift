import Foundation

/// A real `moto_server` (moto 5.2.1, an S3/IAM/STS emulator; `make test` installs it) on a free
/// loopback port, started by a test and stopped by it.
///
/// It starts with moto's auth checks off (moto's default: `INITIAL_NO_AUTH_ACTION_COUNT` unset, so
/// "infinite" unauthenticated actions) so that a test can create users, keys, buckets and objects;
/// the test then turns checking on with a POST of `0` to `/moto-api/reset-auth`, after which every
/// S3/IAM/STS action must carry a SigV4 signature by an access key moto's IAM knows.
///
///     let moto = try MotoServer.start()
///     defer { moto.stop() }
///     // use moto.endpoint
public final class MotoServer: @unchecked Sendable {
    public let port: Int
    private let directory: URL
    private var process: Process?

    public var endpoint: String { "http://127.0.0.1:\(port)" }

    /// moto's own output (requests, tracebacks), for failure messages.
    public var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("moto.log"), encoding: .utf8)) ?? ""
    }

    private init(port: Int, directory: URL) {
        self.port = port
        self.directory = directory
    }

    /// `moto_server` on `PATH`, else an error that says how to install it.
    public static func executable() throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = URL(fileURLWithPath: String(dir)).appendingPathComponent("moto_server")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw MotoServerError(message: """
            moto_server not found on PATH (\(path)): the S3 tests need it. \
            Install it with: python3 -m pip install 'moto[server]==5.2.1' (make test does this)
            """)
    }

    /// Starts a server on a free port and waits until it accepts connections. If moto exits first
    /// (say the port was taken between picking and binding), it tries another port (3 tries).
    public static func start() throws -> MotoServer {
        let exe = try executable()
        var failures: [String] = []
        for _ in 0..<3 {
            let server = MotoServer(port: TestSupport.freePort(), directory: try TestSupport.temporaryDirectory("moto"))
            do {
                try server.launch(exe)
                return server
            } catch {
                failures.append("\(error)")
                server.stop()
            }
        }
        throw MotoServerError(message: "moto_server did not start: " + failures.joined(separator: "; "))
    }

    private func launch(_ exe: URL) throws {
        let p = Process()
        p.executableURL = exe
        p.arguments = ["-H", "127.0.0.1", "-p", "\(port)"]
        var env = ProcessInfo.processInfo.environment
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = nil  // auth off until the test turns it on
        p.environment = env
        let logURL = directory.appendingPathComponent("moto.log")
        guard FileManager.default.createFile(atPath: logURL.path, contents: nil) else {
            throw MotoServerError(message: "cannot create \(logURL.path)")
        }
        let logFile = try FileHandle(forWritingTo: logURL)
        defer { try? logFile.close() }
        p.standardOutput = logFile
        p.standardError = logFile
        try p.run()
        process = p
        // moto imports a lot of Python before it listens: allow for a loaded machine.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            guard p.isRunning else {
                throw MotoServerError(message: "moto_server exited (status \(p.terminationStatus)) on port \(port): \(log.suffix(2000))")
            }
            if TestSupport.isListening(port: port) { return }
            usleep(50_000)
        }
        throw MotoServerError(message: "moto_server did not listen on port \(port) within 60 s: \(log.suffix(2000))")
    }

    /// Stops the server and removes its directory.
    public func stop() {
        if let p = process {
            TestSupport.terminate(p, grace: 2)
            process = nil
        }
        try? FileManager.default.removeItem(at: directory)
    }

    deinit {
        if let p = process, p.isRunning { Foundation.kill(p.processIdentifier, SIGKILL) }
    }
}

public struct MotoServerError: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
