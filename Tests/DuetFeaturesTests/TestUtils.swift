import DuetFeatures
import DuetTestSupport
import Foundation

/// The definitions shipped in features/.
func shippedDefinitions() throws -> [FeatureSetDefinition] {
    try FeatureSetDefinition.load(directory: TestSupport.packageRoot.appendingPathComponent("features").path)
}

func sampleSnapshot(_ set: String, _ version: String) -> String {
    TestSupport.packageRoot.appendingPathComponent("features/snapshots/\(set)/\(version)").path
}

/// A small test feature set and snapshots of it.
let testDefinition = FeatureSetDefinition(
    name: "things", entity: "item",
    fields: [
        FieldDefinition(name: "a", type: .float, defaultValue: .float(-1)),
        FieldDefinition(name: "b", type: .string, defaultValue: .string("none")),
        FieldDefinition(name: "n", type: .int),
    ],
    ttl: .seconds(30))

/// Writes a `things` snapshot where every row of version `tag` carries `a = tag`, so a reader can tell versions apart.
@discardableResult
func writeThings(in dir: URL, version: String, tag: Double, count: Int = 50) throws -> String {
    let path = dir.appendingPathComponent("things-\(version)").path
    try Snapshot.write(
        directory: path, set: "things", version: version, fields: ["a", "b", "n"],
        rows: (0..<count).map { (id: "t\($0)", values: [String(tag), "b,\"\($0)\"", String($0)]) })
    return path
}

/// `python3 -m http.server` serving `directory` on a free port, stopped by `stop()`.
final class PythonHTTPServer {
    let port: Int
    let process: Process

    init(directory: URL) throws {
        port = TestSupport.freePort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-m", "http.server", "--bind", "127.0.0.1", String(port)]
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard TestSupport.waitForPort(port, timeout: 10) else {
            process.terminate()
            throw FeatureError(.io, "python3 -m http.server did not start")
        }
    }

    var base: String { "http://127.0.0.1:\(port)" }

    /// SIGKILL: a child spawned from a test thread may inherit a mask that blocks SIGTERM.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

func elapsed<T>(_ body: () async throws -> T) async rethrows -> (T, Duration) {
    let t0 = ContinuousClock.now
    let r = try await body()
    return (r, t0.duration(to: .now))
}
