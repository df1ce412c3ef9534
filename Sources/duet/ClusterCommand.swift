import ArgumentParser
import DuetAPI
import Foundation

/// `duet cluster`: who serves what, who trains, how far the stream is.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "Show the cluster a running server is in: replicas, trainer, versions, feedback stream.")
    @Flag(help: "Print the server's JSON.") var json = false
    @OptionGroup var server: ServerOptions

    func run() async throws {
        let c = try await server.client.call("GET", "/v1/admin/cluster", as: ClusterInfo.self)
        if json { return try ExperimentRemote.printJSON(c) }
        guard c.mode == "cluster" else {
            print("single process (no --cluster): it serves and trains version \(c.version ?? "-")")
            return
        }
        print("cluster \(c.cluster ?? "-"): this replica \(c.me), trainer \(c.trainer ?? "none right now")\(c.leaseToken.map { " (lease token \($0))" } ?? "")")
        print("head \(c.head ?? "-"); this replica serves \(c.version ?? "-") (published \(c.published), applied \(c.applied), resyncs \(c.resyncs))")
        if let s = c.stream {
            print("feedback stream: \(s.length) entries, last \(s.last)\(s.readThrough.map { ", trainer read through \($0)" } ?? "")")
        }
        let now = Date().timeIntervalSince1970
        for r in c.replicas {
            print("  \(r.replica)\t\(r.address)\tversion \(r.version ?? "-")\t\(r.trainer ? "trainer" : "follower")\tseen \(String(format: "%.1f", now - r.seenAt)) s ago")
        }
        if let e = c.redisError { print("Redis: \(e)") }
    }
}
