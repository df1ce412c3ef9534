import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real `duet serve` process on a free loopback port, for end-to-end tests.
///
///     let server = try await DuetServerProcess.start(dataDirectory: dir, arguments: ["--admin-token", "ops:t"])
///     defer { server.stop() }
///     let (status, json) = try await server.post("/v1/recommend", ["experiment": "homepage", "user": "u1"])
public final class DuetServerProcess: @unchecked Sendable {
    public let port: Int
    public let dataDirectory: URL
    public let process: Process
    private let logFile: URL

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    init(port: Int, dataDirectory: URL, process: Process, logFile: URL) {
        self.port = port
        self.dataDirectory = dataDirectory
        self.process = process
        self.logFile = logFile
    }

    /// Starts `duet serve` (from the package root, so `experiments/` and `features/` resolve) and waits
    /// until `/healthz` answers.
    public static func start(
        dataDirectory: URL, port: Int? = nil, arguments: [String] = [], environment: [String: String] = [:]
    ) async throws -> DuetServerProcess {
        let port = port ?? TestSupport.freePort()
        let p = Process()
        p.executableURL = TestSupport.duetBinary
        p.arguments = ["serve", "--port", "\(port)", "--data-dir", dataDirectory.path] + arguments
        p.currentDirectoryURL = TestSupport.packageRoot
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let log = dataDirectory.appendingPathComponent("server-\(port).log")
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        let server = DuetServerProcess(port: port, dataDirectory: dataDirectory, process: p, logFile: log)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if !p.isRunning { throw ServerProcessError(message: "duet serve exited: \(server.log)") }
            if let (status, _) = try? await server.get("/healthz"), status == 200 { return server }
            try await Task.sleep(for: .milliseconds(25))
        }
        server.stop()
        throw ServerProcessError(message: "duet serve did not become healthy: \(server.log)")
    }

    /// What the server printed so far.
    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Sends SIGTERM and waits for the process to exit; returns its exit status.
    @discardableResult
    public func stop() -> Int32 {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(15)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    public func get(_ path: String, token: String? = nil) async throws -> (Int, Data) {
        try await send("GET", path, body: nil, token: token)
    }

    public func post(_ path: String, _ json: Any, token: String? = nil) async throws -> (Int, [String: Any]) {
        let (status, data) = try await send("POST", path, body: try JSONSerialization.data(withJSONObject: json), token: token)
        return (status, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
    }

    public func send(_ method: String, _ path: String, body: Data?, token: String? = nil, contentType: String = "application/json") async throws -> (Int, Data) {
        var request = URLRequest(url: URL(string: baseURL + path)!)
        request.httpMethod = method
        request.timeoutInterval = 10
        if let body {
            request.httpBody = body
            request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    deinit { if process.isRunning { process.terminate() } }
}

public struct ServerProcessError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
