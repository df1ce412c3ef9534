import Foundation
import Yams

/// Everything `duet serve` can be told, with a default for each field.
///
/// Built once from (in order of precedence) command-line flags, `DUET_<NAME>` environment variables,
/// an optional `duet.yaml`, and these defaults.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// SQLite file and model files live here.
    public var dataDirectory = "./duet-data"
    public var experimentsDirectory = "experiments"
    public var featuresDirectory = "features"
    /// `redis://host:port[/db]`; nil serves features from the embedded store (features/snapshots).
    public var redisURL: String?
    /// Admin tokens by name (the name is what the audit log records). Empty: admin routes refuse all.
    public var adminTokens: [String: String] = [:]
    /// Most candidates one /v1/recommend may carry.
    public var maxCandidates = 1000
    /// Largest request body accepted, in bytes.
    public var maxBodyBytes = 1 << 20
    /// How long a served impression waits for its feedback.
    public var impressionTTL: Duration = .seconds(600)
    /// Most impressions kept for the feedback join (oldest dropped first).
    public var impressionCapacity = 200_000
    /// Online learner: publish a new version at least this often while it learns.
    public var publishInterval: Duration = .milliseconds(250)
    /// Online learner: also publish after this many examples.
    public var publishEvery = 10_000
    /// Online model checkpoint period.
    public var checkpointInterval: Duration = .seconds(5)
    /// Feature read budget on the request path.
    public var featureBudget: Duration = .milliseconds(5)
    /// Feature sets used for users and items.
    public var userFeatureSet = "user_profile"
    public var itemFeatureSet = "item_catalog"
    /// Model versions kept in memory per slot.
    public var versionsKept = 16

    public init() {}

    /// Parses `name:token[,name:token...]`; a bare token is named `admin`.
    public static func parseTokens(_ text: String) throws -> [String: String] {
        var tokens: [String: String] = [:]
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            if let colon = part.firstIndex(of: ":") {
                let name = String(part[..<colon]), token = String(part[part.index(after: colon)...])
                guard !name.isEmpty, !token.isEmpty else {
                    throw ConfigurationError(message: "admin token '\(part)': expected NAME:TOKEN")
                }
                tokens[name] = token
            } else {
                tokens["admin"] = part
            }
        }
        return tokens
    }

    /// Applies the keys of a `duet.yaml` file over this configuration. Unknown keys are an error.
    public mutating func apply(yamlFile path: String) throws {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigurationError(message: "\(path): cannot read: \(error.localizedDescription)")
        }
        guard let node = try? Yams.load(yaml: text) else {
            throw ConfigurationError(message: "\(path): not valid YAML")
        }
        guard let map = node as? [String: Any] else {
            throw ConfigurationError(message: "\(path): expected a mapping of settings")
        }
        for (key, value) in map {
            try apply(key: key, value: "\(value)", source: path)
        }
    }

    /// Applies `DUET_<NAME>` environment variables.
    public mutating func apply(environment: [String: String]) throws {
        for key in Self.keys {
            if let value = environment["DUET_" + key.uppercased()] {
                try apply(key: key, value: value, source: "DUET_" + key.uppercased())
            }
        }
    }

    public static let keys = [
        "host", "port", "data_dir", "experiments", "features", "redis", "admin_token", "max_candidates",
        "max_body_bytes", "impression_ttl_seconds", "publish_interval_ms", "publish_every", "feature_budget_ms",
        "checkpoint_interval_ms", "impression_capacity",
    ]

    /// Sets one setting by its file/environment name.
    public mutating func apply(key: String, value: String, source: String) throws {
        func int() throws -> Int {
            guard let v = Int(value), v > 0 else {
                throw ConfigurationError(message: "\(source): \(key): expected a positive integer, got '\(value)'")
            }
            return v
        }
        switch key {
        case "host": host = value
        case "port":
            let p = try int()
            guard p < 65536 else { throw ConfigurationError(message: "\(source): port: \(p) is not a TCP port") }
            port = p
        case "data_dir": dataDirectory = value
        case "experiments": experimentsDirectory = value
        case "features": featuresDirectory = value
        case "redis": redisURL = value.isEmpty ? nil : value
        case "admin_token": adminTokens = try Self.parseTokens(value)
        case "max_candidates": maxCandidates = try int()
        case "max_body_bytes": maxBodyBytes = try int()
        case "impression_ttl_seconds": impressionTTL = .seconds(try int())
        case "publish_interval_ms": publishInterval = .milliseconds(try int())
        case "publish_every": publishEvery = try int()
        case "feature_budget_ms": featureBudget = .milliseconds(try int())
        case "checkpoint_interval_ms": checkpointInterval = .milliseconds(try int())
        case "impression_capacity": impressionCapacity = try int()
        default:
            throw ConfigurationError(message: "\(source): unknown setting '\(key)' (known: \(Self.keys.joined(separator: ", ")))")
        }
    }
}

/// A configuration problem: names the source (flag, variable or file) and the setting.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
