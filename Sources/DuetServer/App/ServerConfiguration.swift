import DuetCluster
import Foundation

/// Everything `duet serve` can be told, with a default for each field.
///
/// The executable builds it once from (in order of precedence) command-line flags, `DUET_<NAME>`
/// environment variables, an optional `duet.yaml`, and these defaults (`ServeSettings` in `duet`).
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// SQLite file and model files live here.
    public var dataDirectory = "./duet-data"
    public var experimentsDirectory = "experiments"
    public var featuresDirectory = "features"
    /// `redis://host:port[/db]`; nil serves features from the embedded store (features/snapshots).
    public var redisURL: String?
    /// Cluster mode: the cluster's name (needs `redisURL`); nil runs one process on its own.
    public var cluster: String?
    /// This replica's id in the cluster (nil: `HOSTNAME-PORT`).
    public var replicaID: String?
    /// The trainer lease's time to live (renewed every third of it).
    public var leaseTTL: Duration = .seconds(2)
    /// How often the trainer publishes a full snapshot (deltas in between).
    public var snapshotInterval: Duration = .seconds(30)
    /// Admin tokens by name (the name is what the audit log records). Empty: admin routes refuse all.
    public var adminTokens: [String: String] = [:]
    /// Data-plane tokens by client name, for `/v1/recommend` and `/v1/feedback`. Empty: those routes are open.
    public var apiTokens: [String: String] = [:]
    /// Feedback events per second each client may send (its API token's name; its address when the
    /// data plane is open), with bursts of twice that. 0: no limit.
    public var feedbackRatePerClient = 0.0
    /// Most candidates one /v1/recommend may carry.
    public var maxCandidates = 1000
    /// Largest request body accepted, in bytes.
    public var maxBodyBytes = 1 << 20
    /// A connection with no request in progress for this long is closed (also one that never sends a
    /// request: a flood of idle connections frees itself).
    public var idleTimeout: Duration = .seconds(30)
    /// Most open connections kept: past it each new connection closes the one idle the longest (one
    /// that never sent a request first); never one with a request in progress. New ones are always
    /// accepted, so a flood of idle connections cannot make `/healthz` wait.
    public var maxConnections = 4096
    /// A connection whose first request head is not complete this long after it opened is closed.
    public var headerTimeout: Duration = .seconds(10)
    /// Most keys a recommend request's `context` may have (each becomes a feature the impression keeps).
    public var maxContextKeys = 64
    /// Longest string (in characters: Unicode code points, as JSON Schema's `maxLength` counts them)
    /// accepted for ids, context keys and context values.
    public var maxStringLength = 256
    /// How long a served impression waits for its feedback.
    public var impressionTTL: Duration = .seconds(600)
    /// Most impressions kept for the feedback join (oldest dropped first).
    public var impressionCapacity = 200_000
    /// Online learner: publish a new version at least this often while it learns.
    public var publishInterval: Duration = .milliseconds(250)
    /// Online learner: also publish after this many examples.
    public var publishEvery = 10_000
    /// When the feedback log syncs to disk (`always`, `everysec`, `no`; see `FeedbackLogSync`).
    public var feedbackSync: FeedbackLogSync = .everysec
    /// Online model checkpoint period.
    public var checkpointInterval: Duration = .seconds(5)
    /// Feature read budget on the request path.
    public var featureBudget: Duration = .milliseconds(5)
    /// Feature sets used for users and items.
    public var userFeatureSet = "user_profile"
    public var itemFeatureSet = "item_catalog"
    /// Model versions kept in memory per slot.
    public var versionsKept = 16
    /// Where `duet serve` runs Swift concurrency: `eventLoops` (the default) installs SwiftNIO's event
    /// loops as the global executor, so a request's tasks run on the thread that read it (blocking
    /// work runs on `BackgroundExecutor`); `pool` keeps Swift's own pool (a hop each way per request).
    public var executor: TaskThreads = .eventLoops

    public init() {}
}

/// See `ServerConfiguration.executor`.
public enum TaskThreads: String, Sendable, CaseIterable {
    case eventLoops = "event_loops"
    case pool
}

/// A configuration problem: names the source (flag, variable or file) and the setting.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
