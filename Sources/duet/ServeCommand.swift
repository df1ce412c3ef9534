import ArgumentParser
import DuetServer
import Foundation

/// `duet serve`: the recommendation API, admin API and metrics.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the Duet server.",
        discussion: "Every flag can also come from the environment as DUET_<NAME> (e.g. DUET_PORT) or from --config duet.yaml (keys like data_dir, admin_token). Flags win over the environment, which wins over the file."
    )

    @Option(help: "A duet.yaml with settings (keys: \(ServeSettings.keys.joined(separator: ", "))).")
    var config: String?
    @Option(help: "Address to bind (default 127.0.0.1).") var host: String?
    @Option(help: "Port (default 8080).") var port: Int?
    @Option(name: .customLong("data-dir"), help: "SQLite file and model files (default ./duet-data).") var dataDir: String?
    @Option(help: "Experiment configs directory (default experiments/).") var experiments: String?
    @Option(help: "Feature-set definitions directory (default features/).") var features: String?
    @Option(help: "redis://host:port[/db]; absent: the embedded store from features/snapshots.") var redis: String?
    @Option(help: "Cluster mode: the cluster's name; needs --redis (every replica of one cluster gives the same name).") var cluster: String?
    @Option(name: .customLong("replica-id"), help: "This replica's id in the cluster (default HOSTNAME-PORT).") var replicaID: String?
    @Option(name: .customLong("admin-token"), help: "Admin token(s): TOKEN or NAME:TOKEN[,NAME:TOKEN]. Absent: admin routes refuse everything.")
    var adminToken: String?
    @Option(name: .customLong("api-token"), help: "Data-plane token(s) for /v1/recommend and /v1/feedback: TOKEN or NAME:TOKEN[,…]. Absent: open.")
    var apiToken: String?

    func run() async throws {
        var configuration = ServerConfiguration()
        do {
            if let config { try ServeSettings.apply(yamlFile: config, to: &configuration) }
            try ServeSettings.apply(environment: ProcessInfo.processInfo.environment, to: &configuration)
            let flags: [(String, String?)] = [
                ("host", host), ("port", port.map(String.init)), ("data_dir", dataDir), ("experiments", experiments),
                ("features", features), ("redis", redis), ("cluster", cluster), ("replica_id", replicaID), ("admin_token", adminToken),
                ("api_token", apiToken),
            ]
            for case let (key, value?) in flags {
                try ServeSettings.apply(key: key, value: value, source: "--" + key.replacingOccurrences(of: "_", with: "-"), to: &configuration)
            }
        } catch let error as ConfigurationError {
            throw CLIError(error.message)
        }
        try await DuetServerApp.run(configuration)
    }
}
