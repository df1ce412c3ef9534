import DuetTestSupport
import Foundation
import Testing

/// Shared setup for end-to-end tests: a static model trained once by the real `duet train`, and
/// data directories holding a copy of it.
enum ServerHarness {
    static let token = "ops-token-1"
    static let otherToken = "alice-token-2"
    static let tokens = "ops:\(token),alice:\(otherToken)"

    /// The static model file, trained on the OBD bts log (once per test run).
    static let staticModel: String = {
        let dir = try! TestSupport.temporaryDirectory("e2e-model")
        let path = dir.appendingPathComponent("obd-static.duet").path
        if !FileManager.default.fileExists(atPath: path) {
            let r = try! TestSupport.run(["train", "data/obd/bts/men.csv", "--format", "obd", "--out", path])
            precondition(r.status == 0, "duet train failed: \(r.stderr)")
        }
        return path
    }()

    /// A fresh data directory with the static model in `models/static/`.
    static func dataDirectory(withModel: Bool = true) throws -> URL {
        let dir = try TestSupport.temporaryDirectory("duet-e2e")
        if withModel {
            let models = dir.appendingPathComponent("models/static")
            try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: staticModel, toPath: models.appendingPathComponent("obd-static.duet").path)
        }
        return dir
    }

    static func start(_ dir: URL, _ extra: [String] = [], environment: [String: String] = [:]) async throws -> DuetServerProcess {
        try await DuetServerProcess.start(
            dataDirectory: dir, arguments: ["--admin-token", tokens] + extra,
            environment: ["DUET_CHECKPOINT_INTERVAL_MS": "300"].merging(environment) { $1 })
    }

    static func recommend(_ s: DuetServerProcess, user: String, experiment: String = "homepage", candidates: [String]? = ["1", "2", "3"], k: Int = 3) async throws -> [String: Any] {
        var body: [String: Any] = ["experiment": experiment, "user": user, "k": k, "context": ["position": "1"]]
        if let candidates { body["candidates"] = candidates }
        let (status, json) = try await s.post("/v1/recommend", body)
        #expect(status == 200, "recommend: \(status) \(json)")
        return json
    }

    static func modelVersion(_ json: [String: Any]) -> String { (json["model"] as? [String: Any])?["version"] as? String ?? "" }

    static func admin(_ s: DuetServerProcess, _ method: String, _ path: String, _ body: Any? = nil, token: String = token) async throws -> (Int, [String: Any]) {
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let (status, reply) = try await s.send(method, path, body: data, token: token)
        return (status, (try? JSONSerialization.jsonObject(with: reply)) as? [String: Any] ?? [:])
    }

    /// Runs the real `duet` CLI against the server.
    static func cli(_ s: DuetServerProcess, _ args: [String], token: String = token) throws -> ProcessResult {
        try TestSupport.run(args + ["--server", s.baseURL, "--token", token])
    }

    /// Polls `check` every 50 ms for up to `seconds`.
    static func eventually(_ seconds: Double = 5, _ check: () async throws -> Bool) async rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await check() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}
