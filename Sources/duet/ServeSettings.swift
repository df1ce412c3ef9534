import DuetCluster
import DuetServer
import Foundation
import Yams

/// The one table of `duet serve`'s settings: each key's name in `duet.yaml`, its `DUET_<NAME>`
/// variable and (for some) its `--flag`, what it means, and how it sets `ServerConfiguration`.
/// Precedence: flags over the environment over the file over the defaults. A key missing here cannot
/// be set anywhere, so none can be forgotten in one place only.
enum ServeSettings {
    struct Setting: Sendable {
        var key: String
        var help: String
        var apply: @Sendable (inout ServerConfiguration, String, _ source: String) throws -> Void
    }

    static let all: [Setting] = [
        .init(key: "host", help: "address to bind (default 127.0.0.1)") { c, v, _ in c.host = v },
        .init(key: "port", help: "TCP port (default 8080)") { c, v, s in
            let p = try positive(v, "port", s)
            guard p < 65536 else { throw ConfigurationError(message: "\(s): port: \(p) is not a TCP port") }
            c.port = p
        },
        .init(key: "data_dir", help: "SQLite file and model files (default ./duet-data)") { c, v, _ in c.dataDirectory = v },
        .init(key: "experiments", help: "experiment configs directory (default experiments)") { c, v, _ in c.experimentsDirectory = v },
        .init(key: "features", help: "feature-set definitions directory (default features)") { c, v, _ in c.featuresDirectory = v },
        .init(key: "redis", help: "redis://host:port[/db]; empty: the embedded store") { c, v, _ in c.redisURL = v.isEmpty ? nil : v },
        .init(key: "cluster", help: "cluster mode: the cluster's name (needs redis); empty: one process on its own") { c, v, _ in
            c.cluster = v.isEmpty ? nil : v
        },
        .init(key: "replica_id", help: "this replica's id in the cluster (default HOSTNAME-PORT)") { c, v, _ in c.replicaID = v.isEmpty ? nil : v },
        .init(key: "lease_ms", help: "the trainer lease's TTL in ms, renewed every third (default 2000)") { c, v, s in
            c.leaseTTL = .milliseconds(try positive(v, "lease_ms", s))
        },
        .init(key: "snapshot_interval_ms", help: "how often the trainer publishes a full snapshot (default 30000; deltas between)") { c, v, s in
            c.snapshotInterval = .milliseconds(try positive(v, "snapshot_interval_ms", s))
        },
        .init(key: "admin_token", help: "TOKEN or NAME:TOKEN[,NAME:TOKEN]") { c, v, s in c.adminTokens = try parseTokens(v, s) },
        .init(key: "api_token", help: "TOKEN or NAME:TOKEN[,…] required on /v1/recommend and /v1/feedback") { c, v, s in
            c.apiTokens = try parseTokens(v, s)
        },
        .init(key: "feedback_rate_per_client", help: "feedback events per second per client, bursts of 2× (default 0: no limit)") { c, v, s in
            guard let r = Double(v), r.isFinite, r >= 0 else {
                throw ConfigurationError(message: "\(s): feedback_rate_per_client: expected a number ≥ 0, got '\(v)'")
            }
            c.feedbackRatePerClient = r
        },
        .init(key: "max_candidates", help: "most candidates per recommend (default 1000)") { c, v, s in c.maxCandidates = try positive(v, "max_candidates", s) },
        .init(key: "max_body_bytes", help: "largest request body (default 1048576)") { c, v, s in c.maxBodyBytes = try positive(v, "max_body_bytes", s) },
        .init(key: "idle_timeout_seconds", help: "close a connection idle this long (default 30)") { c, v, s in
            c.idleTimeout = .seconds(try positive(v, "idle_timeout_seconds", s))
        },
        .init(key: "header_timeout_seconds", help: "close a connection whose first request head is not in after this long (default 10)") { c, v, s in
            c.headerTimeout = .seconds(try positive(v, "header_timeout_seconds", s))
        },
        .init(key: "max_connections", help: "most open connections kept; past it the longest idle one is closed for a new one (default 4096)") { c, v, s in
            c.maxConnections = try positive(v, "max_connections", s)
        },
        .init(key: "max_context_keys", help: "most keys in a recommend's context (default 64)") { c, v, s in
            c.maxContextKeys = try positive(v, "max_context_keys", s)
        },
        .init(key: "max_string_length", help: "longest id, context key or value in characters, i.e. Unicode code points (default 256)") { c, v, s in
            c.maxStringLength = try positive(v, "max_string_length", s)
        },
        .init(key: "impression_ttl_seconds", help: "how long an impression waits for feedback (default 600)") { c, v, s in
            c.impressionTTL = .seconds(try positive(v, "impression_ttl_seconds", s))
        },
        .init(key: "impression_capacity", help: "most impressions kept (default 200000)") { c, v, s in
            c.impressionCapacity = try positive(v, "impression_capacity", s)
        },
        .init(key: "publish_interval_ms", help: "learner publishes at least this often (default 250)") { c, v, s in
            c.publishInterval = .milliseconds(try positive(v, "publish_interval_ms", s))
        },
        .init(key: "publish_every", help: "learner also publishes after this many examples (default 10000)") { c, v, s in
            c.publishEvery = try positive(v, "publish_every", s)
        },
        .init(key: "checkpoint_interval_ms", help: "online checkpoint period (default 5000)") { c, v, s in
            c.checkpointInterval = .milliseconds(try positive(v, "checkpoint_interval_ms", s))
        },
        .init(key: "feedback_fsync", help: "feedback log fsync: always, everysec or no (default everysec)") { c, v, s in
            guard let sync = FeedbackLogSync(rawValue: v) else {
                throw ConfigurationError(message: "\(s): feedback_fsync: expected always, everysec or no, got '\(v)'")
            }
            c.feedbackSync = sync
        },
        .init(key: "executor", help: "where Swift tasks run: event_loops (SwiftNIO's, the default) or pool (Swift's)") { c, v, s in
            guard let threads = TaskThreads(rawValue: v) else {
                throw ConfigurationError(message: "\(s): executor: expected event_loops or pool, got '\(v)'")
            }
            c.executor = threads
        },
        .init(key: "feature_budget_ms", help: "feature read budget per request (default 5)") { c, v, s in
            c.featureBudget = .milliseconds(try positive(v, "feature_budget_ms", s))
        },
        .init(key: "user_feature_set", help: "feature set of users (default user_profile)") { c, v, s in c.userFeatureSet = try name(v, "user_feature_set", s) },
        .init(key: "item_feature_set", help: "feature set of items (default item_catalog)") { c, v, s in c.itemFeatureSet = try name(v, "item_feature_set", s) },
        .init(key: "versions_kept", help: "model versions kept in memory per slot (default 16)") { c, v, s in
            c.versionsKept = try positive(v, "versions_kept", s)
        },
    ]

    static var keys: [String] { all.map(\.key) }

    /// Sets one setting by its file/environment name; an unknown key is an error naming the known ones.
    static func apply(key: String, value: String, source: String, to c: inout ServerConfiguration) throws {
        guard let setting = all.first(where: { $0.key == key }) else {
            throw ConfigurationError(message: "\(source): unknown setting '\(key)' (known: \(keys.joined(separator: ", ")))")
        }
        try setting.apply(&c, value, source)
    }

    /// Applies the keys of a `duet.yaml` file. Unknown keys are an error.
    static func apply(yamlFile path: String, to c: inout ServerConfiguration) throws {
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
        for (key, value) in map.sorted(by: { $0.key < $1.key }) {
            try apply(key: key, value: "\(value)", source: path, to: &c)
        }
    }

    /// Applies `DUET_<NAME>` environment variables.
    static func apply(environment: [String: String], to c: inout ServerConfiguration) throws {
        for setting in all {
            let variable = "DUET_" + setting.key.uppercased()
            if let value = environment[variable] { try setting.apply(&c, value, variable) }
        }
    }

    /// Parses `name:token[,name:token...]`; a bare token is named `admin`.
    static func parseTokens(_ text: String, _ source: String) throws -> [String: String] {
        var tokens: [String: String] = [:]
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            if let colon = part.firstIndex(of: ":") {
                let name = String(part[..<colon]), token = String(part[part.index(after: colon)...])
                guard !name.isEmpty, !token.isEmpty else {
                    throw ConfigurationError(message: "\(source): token '\(part)': expected NAME:TOKEN")
                }
                tokens[name] = token
            } else {
                tokens["admin"] = part
            }
        }
        return tokens
    }

    static func positive(_ value: String, _ key: String, _ source: String) throws -> Int {
        guard let v = Int(value), v > 0 else {
            throw ConfigurationError(message: "\(source): \(key): expected a positive integer, got '\(value)'")
        }
        return v
    }

    static func name(_ value: String, _ key: String, _ source: String) throws -> String {
        guard !value.isEmpty else { throw ConfigurationError(message: "\(source): \(key): must not be empty") }
        return value
    }
}
