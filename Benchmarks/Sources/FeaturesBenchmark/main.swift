// Feature store benchmark: bulk-load rows/s, and p50/p99 of reading 1 user + 100 items through the
// reader (cache cold and warm) against a local Redis. Run with scripts/bench-features (release build).
//
//   FeaturesBenchmark REDIS_URL [--rows N] [--reads N] [--features DIR]
import DuetFeatures
import Foundation

let args = CommandLine.arguments
func option(_ name: String, _ fallback: String) -> String {
    if let i = args.firstIndex(of: name), i + 1 < args.count { return args[i + 1] }
    return fallback
}
let redisURL = args.count > 1 && !args[1].hasPrefix("--") ? args[1] : (ProcessInfo.processInfo.environment["DUET_REDIS"] ?? "redis://127.0.0.1:6379")
let rows = Int(option("--rows", "200000"))!
let reads = Int(option("--reads", "5000"))!
let featuresDir = option("--features", "features")

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
func percentile(_ sorted: [Double], _ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
func us(_ s: Double) -> String { String(format: "%.1f µs", s * 1e6) }

let defs = try FeatureSetDefinition.load(directory: featuresDir)
let userDef = defs.first { $0.name == "user_profile" }!
let itemDef = defs.first { $0.name == "item_catalog" }!
let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("duet-bench-\(UUID().uuidString.prefix(6))")
defer { try? FileManager.default.removeItem(at: tmp) }

print("FeaturesBenchmark — Redis \(redisURL), \(ProcessInfo.processInfo.activeProcessorCount) cores")
let admin = try FeatureVersionAdmin(url: redisURL)
for info in try admin.list() where !info.isCurrent { try? admin.drop(set: info.set, version: info.version) }

// 1. Load: synthetic item_catalog (4 fields) and user_profile (38 fields) snapshots.
var rng = SystemRandomNumberGenerator()
func hex() -> String { String(UInt64.random(in: 0...UInt64.max, using: &rng), radix: 16) }
let version = "bench\(Int(Date().timeIntervalSince1970))"
let itemPath = tmp.appendingPathComponent("items").path
try Snapshot.write(directory: itemPath, set: "item_catalog", version: version, fields: itemDef.fieldNames,
                   rows: (0..<rows).map { (id: String($0), values: [String(Double.random(in: -2...2)), hex(), hex(), hex()]) })
let userRows = rows / 4
let userPath = tmp.appendingPathComponent("users").path
try Snapshot.write(directory: userPath, set: "user_profile", version: version, fields: userDef.fieldNames,
                   rows: (0..<userRows).map { i in (id: "u\(i)", values: (0..<4).map { _ in hex() } + (0..<34).map { _ in Int.random(in: 0..<10) == 0 ? String(Double.random(in: 0...1)) : "0" }) })

for (name, path) in [("item_catalog (4 fields)", itemPath), ("user_profile (38 fields)", userPath)] {
    let t0 = ContinuousClock.now
    let snap = try Snapshot.open(directory: path)
    let verify = seconds(t0.duration(to: .now))
    let r = try admin.load(snapshot: snap)
    let total = seconds(t0.duration(to: .now))
    print(String(format: "load %@: %d rows — write+count-check %.3f s = %.0f rows/s; incl. sha256+parse %.3f s = %.0f rows/s",
                 name, r.rows, r.seconds, r.rowsPerSecond, total, Double(r.rows) / total))
    _ = verify
    try admin.promote(set: snap.manifest.set, version: version)
}

// 2. Reads: 1 user + 100 random items per request.
func requests(_ n: Int) -> [(String, [String])] {
    (0..<n).map { _ in ("u\(Int.random(in: 0..<userRows))", (0..<100).map { _ in String(Int.random(in: 0..<rows)) }) }
}

func measure(_ label: String, store: RedisFeatureStore, _ reqs: [(String, [String])]) async {
    var lat: [Double] = []
    lat.reserveCapacity(reqs.count)
    var degraded = 0, hits = 0
    for (u, items) in reqs {
        let t0 = ContinuousClock.now
        let (ur, ir) = await store.read(user: u, userSet: "user_profile", items: items, itemSet: "item_catalog")
        lat.append(seconds(t0.duration(to: .now)))
        if ur.degraded || ir.degraded { degraded += 1 }
        hits += ir.cacheHits + ur.cacheHits
    }
    lat.sort()
    let mean = lat.reduce(0, +) / Double(lat.count)
    print("read 1 user + 100 items, \(label): p50 \(us(percentile(lat, 0.5))), p99 \(us(percentile(lat, 0.99))), mean \(us(mean)), "
          + "\(reqs.count) reads, \(degraded) degraded, cache hit rate \(String(format: "%.0f%%", 100 * Double(hits) / Double(reqs.count * 101)))")
}

var cold = RedisFeatureStore.Configuration()
cold.budget = .milliseconds(50)  // measure the latency, not the cut-off
cold.cacheCapacity = 0
let coldStore = try RedisFeatureStore(url: redisURL, definitions: defs, configuration: cold)
try await Task.sleep(for: .milliseconds(200))
await measure("warm-up", store: coldStore, requests(200))
await measure("cache cold (every row from Redis)", store: coldStore, requests(reads))

var warm = cold
warm.cacheCapacity = rows + userRows
let warmStore = try RedisFeatureStore(url: redisURL, definitions: defs, configuration: warm)
try await Task.sleep(for: .milliseconds(200))
let hot = requests(reads)
await measure("cache filling", store: warmStore, hot)
await measure("cache warm (same requests again)", store: warmStore, hot)

// 3. What the thread hop costs: the same 101 HMGETs, pipelined on a connection on this thread.
do {
    let conn = try RedisConnection(url: RedisURL(parsing: redisURL))
    var lat: [Double] = []
    for (u, items) in requests(reads) {
        let t0 = ContinuousClock.now
        _ = try conn.pipeline([["HMGET", FeatureKeys.row("user_profile", version, u)] + userDef.fieldNames]
                              + items.map { ["HMGET", FeatureKeys.row("item_catalog", version, $0)] + itemDef.fieldNames })
        lat.append(seconds(t0.duration(to: .now)))
    }
    lat.sort()
    print("same 101 HMGETs, blocking on the caller's thread (no pool, no parsing into rows): p50 \(us(percentile(lat, 0.5))), p99 \(us(percentile(lat, 0.99)))")
}

// 4. Concurrency: 16 concurrent readers, cache cold.
do {
    let reqs = requests(reads)
    let t0 = ContinuousClock.now
    let degraded = await withTaskGroup(of: Int.self) { g in
        for k in 0..<16 {
            g.addTask {
                var d = 0
                for i in stride(from: k, to: reqs.count, by: 16) {
                    let (u, it) = await coldStore.read(user: reqs[i].0, userSet: "user_profile", items: reqs[i].1, itemSet: "item_catalog")
                    if u.degraded || it.degraded { d += 1 }
                }
                return d
            }
        }
        return await g.reduce(0, +)
    }
    let s = seconds(t0.duration(to: .now))
    print(String(format: "16 concurrent readers, cache cold, 4 Redis threads: %.0f reads/s (%.0f rows/s), %d degraded", Double(reqs.count) / s, Double(reqs.count * 101) / s, degraded))
}
let m = coldStore.metrics()
print("cold store metrics: fetches \(m.fetchCount), mean fetch \(us(m.fetchSecondsSum / Double(max(1, m.fetchCount)))), redis errors \(m.redisErrors)")
try admin.promote(set: "item_catalog", version: version)
