import Atomics
import DuetAPI
import DuetCluster
import DuetEvaluation
import DuetModels
import DuetRedis
import DuetRouting
import DuetStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Cluster mode (`--redis URL --cluster NAME`): this replica's part in N replicas sharing one Redis.
///
/// Three threads of its own, each with its own blocking Redis connection (never an event loop):
/// - **lease**: every third of the lease TTL, renews the trainer lease when held, else tries to take
///   it; writes this replica's heartbeat and reads the others'.
/// - **follow**: reads the version announcements (`XREAD BLOCK`) and applies every version another
///   trainer published to the online slot: a delta onto its parent, else the newest snapshot and the
///   deltas after it.
/// - **train** (while this replica holds the lease): brings the slot to the cluster's head, re-points
///   the learner there (continuing the cluster's version ids), then reads the feedback stream in
///   order from the position the head learned through, feeds the learner, and publishes each
///   version the learner makes: a delta from the last one published, a full snapshot (with the
///   optimizer state) every `snapshotInterval`. A publication the lease no longer allows is refused
///   by Redis (fencing), and the replica stops training.
///
/// The request path reaches Redis only through `pool` (worker threads with deadlines): feedback
/// appends to the stream before it is acknowledged.
final class ClusterService: Service, ChangeDistributor, Sendable {
    struct Configuration: Sendable {
        var redisURL: RedisURL
        var name: String
        var replica: String
        /// Where this replica listens (shown to the others).
        var address: String
        var leaseTTL: Duration = .seconds(2)
        var snapshotInterval: Duration = .seconds(30)
        /// How long feedback on a request can arrive (the impression TTL): a duplicate is refused that long.
        var impressionTTL: Duration
        /// The file that keeps the last control-stream entry this replica applied.
        var controlPositionFile: String
    }

    /// What the threads share, for the admin API and the status page.
    struct State: Sendable {
        var held: TrainerLease.Holder?
        /// Counts the times this replica took the lease (a token can repeat after Redis lost its data).
        var leaseGeneration = 0
        var holder: TrainerLease.Holder?
        var replicas: [ClusterMembers.Heartbeat] = []
        /// The last announcement applied (or skipped as this replica's own).
        var lastEntry = "0-0"
        /// The feedback-stream entry the trainer has read through (while training).
        var readThrough: String?
        var publishedVersions = 0
        var appliedVersions = 0
        var resyncs = 0
        var redisError: String?
        var impressionsDropped = 0
        /// The feedback stream's newest entry, as of the last heartbeat.
        var streamLast = "0-0"
    }

    /// Pushes the cluster's state to Prometheus (at scrape time; no Redis call).
    func reportMetrics(_ metrics: DuetMetrics) {
        let s = state.withLock { $0 }
        metrics.clusterTrainer.set(to: s.held == nil ? 0 : 1)
        metrics.clusterReplicas.set(to: Double(s.replicas.count))
        metrics.clusterVersionsPublished.set(to: Double(s.publishedVersions))
        metrics.clusterVersionsApplied.set(to: Double(s.appliedVersions))
        metrics.clusterResyncs.set(to: Double(s.resyncs))
        metrics.clusterImpressionsDropped.set(to: Double(s.impressionsDropped))
        if s.held != nil, let read = s.readThrough.flatMap(StreamPosition.number), let last = StreamPosition.number(s.streamLast) {
            metrics.clusterStreamLag.set(to: last > read ? Double((last >> 20) - (read >> 20)) / 1000 : 0)
        } else {
            metrics.clusterStreamLag.set(to: 0)
        }
    }

    /// One line for the status page.
    func statusLine() -> String {
        let s = state.withLock { $0 }
        let me = configuration.replica
        let trainer = s.held != nil ? "this replica trains" : s.holder.map { "trainer \($0.replica)" } ?? "no trainer right now"
        let others = s.replicas.map { "\($0.replica) v\($0.version ?? "-")" }.joined(separator: ", ")
        return "cluster \(configuration.name), replica \(me): \(trainer); replicas: \(others)" + (s.redisError.map { "; Redis: \($0)" } ?? "")
    }

    let configuration: Configuration
    let keys: ClusterKeys
    let lease: TrainerLease
    let stream: FeedbackStream
    let channel: VersionChannel
    let members: ClusterMembers
    let control: ControlStream
    let counts: ExperimentCounts
    let registry: ModelRegistry
    let experiments: ExperimentControl
    let logger: Logger
    let pool: RedisWorkerPool
    /// What applying each control entry made here, for the replica that made the change (it waits).
    private let controlResults = Mutex<[String: Result<[ExperimentRevision], any Error>]>([:])
    private let rollbackResults = Mutex<[String: Result<ModelSlot.Swap, any Error>]>([:])
    let state = Mutex(State())
    /// What the copy thread writes to Redis, in order: impressions, and counted requests for the
    /// cluster's distinct users.
    enum Copy: Sendable {
        /// Encoded by the copy thread, not on the request path.
        case impression(String, Impression)
        case served(experiment: String, revision: Int, arm: Int, bits: [Int])
    }

    private let mirrorQueue = Mutex<[Copy]>([])
    private let mirrorSignal = DispatchSemaphore(value: 0)
    /// Most impressions waiting; past it new ones are not copied (counted: `State.impressionsDropped`, `duet_cluster_impressions_not_copied`).
    static let mirrorCapacity = 100_000
    /// How long the copy thread waits after a wake-up to gather more copies into its batch.
    static let mirrorLinger = Duration.milliseconds(5)
    private let running = ManagedAtomic<Bool>(false)
    private let stopped = DispatchSemaphore(value: 0)

    init(configuration: Configuration, registry: ModelRegistry, experiments: ExperimentControl, logger: Logger) throws {
        self.configuration = configuration
        keys = try ClusterKeys(name: configuration.name)
        lease = TrainerLease(keys: keys, replica: configuration.replica, ttl: configuration.leaseTTL)
        stream = FeedbackStream(keys: keys)
        channel = VersionChannel(keys: keys)
        members = ClusterMembers(keys: keys, stale: max(configuration.leaseTTL * 2, .seconds(3)))
        control = ControlStream(keys: keys)
        counts = ExperimentCounts(keys: keys)
        self.registry = registry
        self.experiments = experiments
        self.logger = logger
        do {
            pool = try RedisWorkerPool(url: configuration.redisURL, threads: 2, queueCapacity: 10_000, connectTimeout: .milliseconds(500),
                                       commandTimeout: .seconds(2))
        } catch {
            throw ConfigurationError(message: "--cluster: Redis at \(configuration.redisURL): \(error)")
        }
    }

    var self_: String { configuration.replica }

    // MARK: - Request path

    /// Appends accepted feedback to the stream (the acknowledgement waits for it); nil when feedback
    /// on this request and item was already taken, on any replica.
    func appendFeedback(_ payload: [UInt8], requestID: String, item: String) async throws -> String? {
        let stream = self.stream, ttl = configuration.impressionTTL
        let result = await pool.run(deadline: .now + .seconds(2)) { redis in
            try stream.append(payload, requestID: requestID, item: item, ttl: ttl, redis)
        }
        switch result {
        case .success(let id): return id
        case .failure(let e): throw ClusterError("the feedback stream is unavailable: \(e)")
        }
    }

    /// Copies a served impression to Redis, off the request path (a thread pipelines the copies):
    /// feedback on it may then arrive at any replica.
    func mirror(requestID: String, _ impression: Impression) { enqueue(.impression(requestID, impression)) }

    /// A user counted for `arm` for the first time on this replica: it counts once across the cluster
    /// (the shared filter, written by the copy thread). Users this replica counted before are not sent
    /// again (they were set then), so the shared filter is written per new user, not per request; a
    /// user this replica's own filter takes for seen (a false positive) is not sent either.
    func served(experiment: String, revision: Int, arm: Int, user: String) {
        enqueue(.served(experiment: experiment, revision: revision, arm: arm, bits: SeenUsers.bits(user)))
    }

    private func enqueue(_ copy: Copy) {
        let (taken, first) = mirrorQueue.withLock { q -> (Bool, Bool) in
            guard q.count < Self.mirrorCapacity else { return (false, false) }
            q.append(copy)
            return (true, q.count == 1)
        }
        if first { mirrorSignal.signal() }
        if !taken { state.withLock { $0.impressionsDropped += 1 } }
    }

    /// The impression another replica served as `requestID` (nil: none, or it expired). Asks twice,
    /// 30 ms apart: feedback sent right after the answer may arrive before the copy does.
    func fetchImpression(_ requestID: String) async -> [UInt8]? {
        let keys = self.keys
        for attempt in 0..<2 {
            if attempt > 0 { try? await Task.sleep(for: .milliseconds(30)) }
            let result = await pool.run(deadline: .now + .seconds(1)) { redis in
                try redis.bytes(["GET", keys.impression(requestID)]).map(ImpressionRecord.unwrap)
            }
            if case .success(let bytes?) = result { return bytes }
        }
        return nil
    }

    private func mirrorLoop(_ redis: RedisConnection) {
        let ttl = String(max(1, configuration.impressionTTL.components.seconds * 1000))
        var batch: [Copy] = []
        while isRunning {
            _ = mirrorSignal.wait(timeout: .now() + 0.2)
            // Linger a moment so a busy replica sends big batches (one write, one BITFIELD per
            // batch) rather than one or two copies per wake-up; feedback that arrives sooner on
            // another replica is asked for again 30 ms later (`fetchImpression`).
            if mirrorQueue.withLock({ $0.count < 500 }) { usleep(UInt32(Self.mirrorLinger.components.attoseconds / 1_000_000_000_000)) }
            // The whole queue, swapped for the last batch's emptied buffer: nothing is copied or shifted
            // (taking 1,000 from the front, and copying them out, was a fifth of this thread's time).
            mirrorQueue.withLock { swap(&$0, &batch) }
            var start = 0
            while start < batch.count {
                let chunk = batch[start..<min(start + 1000, batch.count)]
                start = chunk.endIndex
                do {
                    if let uncounted = try copy(chunk, ttl: ttl, redis) {
                        failed("distinct users", uncounted)  // the copies landed; these new users go uncounted
                    } else {
                        recovered()
                    }
                } catch {
                    // Those impressions (and the rest of the batch, not tried against a failing Redis) join
                    // only on the replica that served them; those users go uncounted.
                    state.withLock { $0.impressionsDropped += batch.count - chunk.startIndex }
                    failed("impressions", error)
                    break
                }
            }
            batch.removeAll(keepingCapacity: true)
        }
    }

    /// Writes one batch of copies in one pipeline: the impressions (`SET … PX`), and the new users'
    /// filter bits (one `BITFIELD` per experiment revision); then, in a second round trip, the count
    /// of the users whose bits were not all set, per arm. Throws when the first fails (nothing of the
    /// batch is sure to have landed); returns the second's error, if any.
    private func copy(_ batch: ArraySlice<Copy>, ttl: String, _ redis: RedisConnection) throws -> (any Error)? {
        var encoder = RESPEncoder()
        // The new users of each experiment revision, in order.
        var groups: [(key: String, revision: Int, arms: [Int], bits: [[Int]])] = []
        var group: [String: Int] = [:]
        for item in batch {
            switch item {
            case .impression(let id, let impression):
                // The record's bytes as they are (a Redis value is binary-safe): no base64 to encode
                // here, to decode on the joining replica, or to store.
                encoder.beginCommand(arguments: 5)
                encoder.argument("SET")
                encoder.argument(keys.impression(id))
                encoder.argument(bytes: ImpressionRecord.encode(impression))
                encoder.argument("PX")
                encoder.argument(ttl)
            case .served(let key, let revision, let arm, let bits):
                let g = group["\(revision) \(key)", default: groups.count]
                if g == groups.count {
                    group["\(revision) \(key)"] = g
                    groups.append((key, revision, [], []))
                }
                groups[g].arms.append(arm)
                groups[g].bits.append(bits)
            }
        }
        let firstMark = encoder.commands  // the groups' BITFIELDs come last, in order
        for g in groups { counts.markSeen(key: g.key, revision: g.revision, bits: g.bits, into: &encoder) }
        var added = Array(repeating: [Int: Int](), count: groups.count)
        try redis.pipeline(encoded: &encoder) { i, reply in
            if case .error(let e) = reply { throw ClusterError("copy to Redis: \(e)") }
            guard i >= firstMark else { return }
            let g = groups[i - firstMark]
            guard let new = ExperimentCounts.newUsers(reply, probes: SeenUsers.probes), new.count == g.arms.count
            else { throw ClusterError("copy to Redis: unexpected BITFIELD reply \(reply)") }
            for (arm, isNew) in zip(g.arms, new) where isNew { added[i - firstMark][arm, default: 0] += 1 }
        }
        var counting = RESPEncoder(reserve: 256)
        for (g, perArm) in zip(groups, added) { counts.count(key: g.key, revision: g.revision, newUsersPerArm: perArm, into: &counting) }
        guard counting.commands > 0 else { return nil }
        do {
            try redis.pipeline(encoded: &counting) { _, reply in
                if case .error(let e) = reply { throw ClusterError("count users in Redis: \(e)") }
            }
            return nil
        } catch {
            return error
        }
    }

    // MARK: - Statistics across the cluster

    /// What a replica publishes of one experiment revision (its own counts and sequences).
    struct PublishedStats: Codable {
        var arms: [ExperimentStats.Arm]
        var excluded: ExperimentStats.Excluded
    }

    /// Writes this replica's statistics of every live experiment (the lease thread, every tick).
    private func publishStats(_ redis: RedisConnection) throws {
        let snapshot = experiments.snapshot
        for (key, stats) in snapshot.stats {
            let body = PublishedStats(arms: stats.arms, excluded: stats.excluded)
            let json = String(decoding: try JSONEncoder().encode(body), as: UTF8.self)
            try counts.publish(key: key, revision: stats.revision, replica: self_, json: json, redis)
        }
    }

    /// The experiment's statistics across the cluster: this replica's live ones merged with every
    /// other replica's last published ones, and the distinct users per arm counted once across the
    /// cluster. Nil when Redis does not answer (the caller shows this replica's own, and says so).
    func clusterStats(_ key: String, local stats: ExperimentStats) async -> (arms: [ExperimentStats.Arm], excluded: ExperimentStats.Excluded)? {
        let counts = self.counts, revision = stats.revision
        let read = await pool.run(deadline: .now + .seconds(1)) { redis in try counts.read(key: key, revision: revision, redis) }
        guard case .success(let (replicas, users)) = read else { return nil }
        var arms = stats.arms
        var excluded = stats.excluded
        for (replica, json) in replicas where replica != self_ {
            guard let other = try? JSONDecoder().decode(PublishedStats.self, from: Data(json.utf8)), other.arms.count == arms.count else { continue }
            for i in arms.indices { arms[i].merge(other.arms[i]) }
            excluded.forced += other.excluded.forced
            excluded.outside += other.excluded.outside
        }
        for i in arms.indices { arms[i].assigned = users[i] ?? 0 }
        return (arms, excluded)
    }

    /// What `GET /v1/admin/cluster` shows.
    func info() async -> ClusterInfo {
        let s = state.withLock { $0 }
        let stream = self.stream, channel = self.channel
        let read = await pool.run(deadline: .now + .seconds(1)) { redis in (try stream.tail(redis), try channel.head(redis)) }
        var tail: (length: Int, last: String)?, head: VersionChannel.Head?, error = s.redisError
        switch read {
        case .success(let (t, h)): (tail, head) = (t, h)
        case .failure(let e): error = "\(e)"
        }
        return ClusterInfo(
            mode: "cluster", cluster: configuration.name, me: self_, trainer: s.holder?.replica, leaseToken: s.holder?.token,
            replicas: s.replicas.map { .init(replica: $0.replica, address: $0.address, version: $0.version, seenAt: $0.at, trainer: $0.trainer) },
            version: registry.onlineSlot.current?.id, head: head?.id,
            stream: tail.map { .init(length: $0.length, last: $0.last, readThrough: s.readThrough) },
            published: s.publishedVersions, applied: s.appliedVersions, resyncs: s.resyncs, redisError: error)
    }

    // MARK: - ChangeDistributor

    func distributeExperiments(_ files: [(file: String, yaml: String)], actor: String, revertedFrom: Int?) async throws -> [ExperimentRevision] {
        let entry = try await publishControl(ClusterChange(
            kind: .experiments, origin: self_, actor: actor, files: files.map { .init(file: $0.file, yaml: $0.yaml) }, revertedFrom: revertedFrom))
        return try await awaitResult(entry, what: "the experiment change") { e in controlResults.withLock { $0.removeValue(forKey: e) } }
    }

    func distributeSwap(slot: SlotName, to id: String, promote: Bool, actor: String, reason: ModelRegistry.RollbackReason, why: String?) async throws -> ModelSlot.Swap {
        let entry = try await publishControl(ClusterChange(
            kind: .rollback, origin: self_, actor: actor, slot: slot.rawValue, to: id, reason: reason, why: why, promote: promote))
        return try await awaitResult(entry, what: promote ? "the promote" : "the rollback") { e in rollbackResults.withLock { $0.removeValue(forKey: e) } }
    }

    // MARK: - Life

    func run() async throws {
        running.store(true, ordering: .releasing)
        let threads: [(String, @Sendable (RedisConnection) -> Void)] = [
            ("duet.cluster.lease", { [self] in leaseLoop($0) }), ("duet.cluster.follow", { [self] in followLoop($0) }),
            ("duet.cluster.train", { [self] in trainLoop($0) }), ("duet.cluster.impressions", { [self] in mirrorLoop($0) }),
            ("duet.cluster.control", { [self] in controlLoop($0) }),
        ]
        for (name, body) in threads {
            let url = configuration.redisURL, stopped = self.stopped
            let t = Thread {
                // Lazy: connects at its first command (and reconnects with a backoff). A blocking read
                // waits up to 1 s, inside the 3 s socket timeout.
                if let redis = try? RedisConnection(url: url, connectTimeout: .milliseconds(500), commandTimeout: .seconds(3), lazy: true) {
                    body(redis)
                }
                stopped.signal()
            }
            t.name = name
            t.start()
        }
        logger.info("cluster mode", metadata: ["cluster": "\(configuration.name)", "replica": "\(self_)", "redis": "\(configuration.redisURL)"])
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        }
        running.store(false, ordering: .releasing)
        for _ in threads { await withCheckedContinuation { c in DispatchQueue.global().async { self.stopped.wait(); c.resume() } } }
        // Hand the lease over at once rather than after its TTL.
        let (held, lease, members, replica) = (state.withLock { $0.held }, lease, members, self_)
        _ = await pool.run(deadline: .now + .seconds(1)) { redis in
            if let held { try lease.release(held, redis) }
            try members.leave(replica, redis)
        }
        pool.shutdown()
        logger.info("cluster: left", metadata: ["replica": "\(self_)", "was_trainer": "\(held != nil)"])
    }

    private var isRunning: Bool { running.load(ordering: .acquiring) }

    /// Sleeps up to `d`, in short steps, returning early when the service stops.
    private func pause(_ d: Duration) {
        let end = ContinuousClock.now + d
        while isRunning && ContinuousClock.now < end { Thread.sleep(forTimeInterval: min(0.05, Self.seconds(end - ContinuousClock.now))) }
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

    /// Logs a Redis failure once per kind in a row (not once per loop).
    private func failed(_ what: String, _ error: any Error) {
        let text = "\(what): \(error)"
        let first = state.withLock { s -> Bool in
            defer { s.redisError = text }
            return s.redisError != text
        }
        if first { logger.error("cluster: Redis failed", metadata: ["what": "\(what)", "error": "\(error)"]) }
    }

    private func recovered() {
        let was = state.withLock { s -> String? in defer { s.redisError = nil }; return s.redisError }
        if was != nil { logger.info("cluster: Redis answers again") }
    }

    // MARK: - Control: changes every replica makes

    /// Publishes `change` on the control stream and waits (up to 5 s) for this replica's own
    /// application of it; returns the entry id.
    private func publishControl(_ change: ClusterChange) async throws -> String {
        let text = String(decoding: try JSONEncoder().encode(change), as: UTF8.self)
        let control = self.control
        switch await pool.run(deadline: .now + .seconds(2), { redis in try control.append(text, redis) }) {
        case .success(let id): return id
        case .failure(let e): throw ServingError.clusterUnavailable("the change was not published to the cluster (nothing changed): \(e)")
        }
    }

    private func awaitResult<T>(_ entry: String, what: String, _ take: (String) -> Result<T, any Error>?) async throws -> T {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if let r = take(entry) { return try r.get() }
            try? await Task.sleep(for: .milliseconds(5))
        }
        throw ServingError.clusterUnavailable("\(what) was published (control entry \(entry)) but this replica has not applied it within 5 s")
    }

    private func controlLoop(_ redis: RedisConnection) {
        var position = (try? String(contentsOfFile: configuration.controlPositionFile, encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "0-0"
        if StreamPosition.number(position) == nil { position = "0-0" }
        // Experiment changes are replayed from where this replica stopped (all of them, for a new
        // one); a rollback or promote made before this process started is not: the trainer's head
        // already reflects it, and replaying it would serve an old version for a moment.
        let started = UInt64(Date().timeIntervalSince1970 * 1000)
        while isRunning {
            do {
                for entry in try control.read(after: position, block: .seconds(1), redis) {
                    guard isRunning else { return }
                    applyControl(entry, replayed: (StreamPosition.number(entry.id) ?? 0) >> 20 < started)
                    position = entry.id
                    try ModelFiles.writeText(position + "\n", to: configuration.controlPositionFile)
                }
            } catch {
                failed("control", error)
                pause(.milliseconds(500))
            }
        }
    }

    /// Makes one change here (blocking this thread until it is made). `replayed`: the entry was
    /// written before this process started.
    private func applyControl(_ entry: ControlStream.Entry, replayed: Bool) {
        guard let change = try? JSONDecoder().decode(ClusterChange.self, from: Data(entry.change.utf8)) else {
            logger.error("cluster: a control entry of another format skipped", metadata: ["entry": "\(entry.id)"])
            return
        }
        let mine = change.origin == self_
        let done = DispatchSemaphore(value: 0)
        switch change.kind {
        case .experiments:
            let files = (change.files ?? []).map { (file: $0.file, yaml: $0.yaml) }
            let experiments = self.experiments
            let box = Mutex<Result<[ExperimentRevision], any Error>?>(nil)
            Task(executorPreference: BackgroundExecutor.shared) {  // applying writes files: not on an event loop
                do {
                    let saved = try await experiments.applyHere(files, actor: change.actor, revertedFrom: change.revertedFrom)
                    box.withLock { $0 = .success(saved) }
                } catch {
                    box.withLock { $0 = .failure(error) }
                }
                done.signal()
            }
            done.wait()
            let result = box.withLock { $0 } ?? .success([])
            if case .failure(let e) = result, !mine {
                logger.error("cluster: an experiment change from another replica was refused here", metadata: [
                    "origin": "\(change.origin)", "by": "\(change.actor)", "error": "\(e)"])
            }
            if mine { controlResults.withLock { $0[entry.id] = result } }
        case .rollback:
            // Every replica keeps the versions the trainer published, so each swaps at once; the
            // trainer also re-points its learner and announces the version (a point).
            guard let slotName = change.slot.flatMap(SlotName.init(rawValue:)), let to = change.to, !replayed else { return }
            let registry = self.registry
            let box = Mutex<Result<ModelSlot.Swap, any Error>?>(nil)
            Task(executorPreference: BackgroundExecutor.shared) {  // applying writes files: not on an event loop
                do {
                    let swap = change.promote == true
                        ? try await registry.promoteHere(slot: slotName, id: to, actor: change.actor)
                        : try await registry.rollbackHere(slot: slotName, to: to, actor: change.actor, reason: change.reason ?? .manual, why: change.why)
                    box.withLock { $0 = .success(swap) }
                } catch {
                    box.withLock { $0 = .failure(error) }
                }
                done.signal()
            }
            done.wait()
            if let result = box.withLock({ $0 }) {
                if case .failure(let e) = result {
                    logger.error("cluster: a rollback could not be made here (the trainer's announcement will bring the version)", metadata: [
                        "slot": "\(slotName)", "to": "\(to)", "error": "\(e)"])
                }
                if mine { rollbackResults.withLock { $0[entry.id] = result } }
            }
        }
    }

    // MARK: - Lease and heartbeat

    private func leaseLoop(_ redis: RedisConnection) {
        var lastRenewed = ContinuousClock.now
        while isRunning {
            do {
                if let held = state.withLock({ $0.held }) {
                    if try lease.renew(held, redis) {
                        lastRenewed = .now
                    } else {
                        state.withLock { $0.held = nil }
                        logger.warning("cluster: the trainer lease was lost", metadata: ["token": "\(held.token)"])
                    }
                } else if let h = try lease.acquire(redis) {
                    lastRenewed = .now
                    state.withLock {
                        $0.held = h
                        $0.leaseGeneration += 1
                    }
                    logger.notice("cluster: took the trainer lease", metadata: ["replica": "\(self_)", "token": "\(h.token)"])
                }
                let holder = try lease.holder(redis)
                let now = Date().timeIntervalSince1970
                let held = state.withLock { $0.held }
                try members.beat(.init(replica: self_, address: configuration.address, version: registry.onlineSlot.current?.id, at: now,
                                       trainer: held != nil), redis)
                let replicas = try members.list(now: now, redis)
                let tail = try stream.tail(redis)
                try publishStats(redis)
                state.withLock {
                    $0.holder = holder
                    $0.replicas = replicas
                    $0.streamLast = tail.last
                }
                recovered()
            } catch {
                failed("lease", error)
                // Unable to renew for a whole TTL: another replica may hold it now.
                if ContinuousClock.now - lastRenewed >= configuration.leaseTTL, let held = state.withLock({ $0.held }) {
                    state.withLock { $0.held = nil }
                    logger.warning("cluster: gave up the trainer lease (not renewed within its TTL)", metadata: ["token": "\(held.token)"])
                }
            }
            pause(configuration.leaseTTL / 3)
        }
    }

    // MARK: - Follow

    private func followLoop(_ redis: RedisConnection) {
        var synced = false
        while isRunning {
            do {
                if !synced {
                    try syncToHead(redis)
                    synced = true
                }
                let after = state.withLock { $0.lastEntry }
                for a in try channel.announcements(after: after, block: .seconds(1), redis) {
                    guard isRunning else { return }
                    if !(try follow(a, redis)) {
                        try syncToHead(redis)
                        break
                    }
                }
            } catch {
                failed("follow", error)
                synced = false
                pause(.milliseconds(500))
            }
        }
    }

    /// Applies one announcement; false when this replica cannot (it lacks the parent, the delta
    /// expired, the snapshot is newer): the caller syncs to the head.
    private func follow(_ a: VersionChannel.Announcement, _ redis: RedisConnection) throws -> Bool {
        defer { state.withLock { $0.lastEntry = a.entry } }
        // This replica's own publications (it is the trainer).
        if let held = state.withLock({ $0.held }), a.token == held.token { return true }
        let slot = registry.onlineSlot
        switch a.kind {
        case .snapshot:
            // A snapshot that carries a delta from the version served here needs no resync.
            if slot.current?.id == a.id { return true }
            guard !a.parent.isEmpty, let base = slot.current, base.id == a.parent, let bytes = try channel.delta(a.id, redis) else { return false }
            apply(try ModelDelta.apply(bytes, to: base))
            return true
        case .point:
            if slot.current?.id == a.id { return true }
            guard slot.version(a.id) != nil, let swap = try? slot.promote(a.id) else { return false }
            registry.published(swap.to, slot: .online)
            state.withLock { $0.appliedVersions += 1 }
            return true
        case .delta:
            if slot.current?.id == a.id { return true }
            guard let base = slot.current, base.id == a.parent, let bytes = try channel.delta(a.id, redis) else { return false }
            let v = try ModelDelta.apply(bytes, to: base)
            apply(v)
            return true
        }
    }

    /// Makes the online slot the cluster's head: the newest snapshot, then every delta announced after
    /// it. Returns the snapshot's optimizer state (nil without one or without a head).
    @discardableResult
    private func syncToHead(_ redis: RedisConnection) throws -> OptimizerState? {
        for _ in 0..<3 {
            guard let head = try channel.head(redis) else {
                state.withLock { $0.lastEntry = "0-0" }
                return nil
            }
            guard let bytes = try channel.snapshot(redis) else { continue }
            let (snapshot, optimizerState) = try ModelFile.decodeWithOptimizerState(bytes, name: "cluster snapshot")
            guard snapshot.id == head.snapshot else { continue }  // a newer snapshot landed between the two reads
            var current = snapshot
            var versions = [snapshot]
            var last = head.snapshotEntry
            var complete = true
            while complete {
                let batch = try channel.announcements(after: last, block: nil, redis)
                if batch.isEmpty { break }
                for a in batch {
                    last = a.entry
                    if a.kind == .point, let v = versions.last(where: { $0.id == a.id }) {
                        current = v
                        versions.append(v)
                        continue
                    }
                    guard a.kind == .delta || a.kind == .snapshot, a.parent == current.id, let d = try channel.delta(a.id, redis) else {
                        complete = false
                        break
                    }
                    current = try ModelDelta.apply(d, to: current)
                    versions.append(current)
                }
            }
            guard complete else { continue }
            for v in versions where v !== current { registry.onlineSlot.publish(v) }
            apply(current)
            state.withLock {
                $0.lastEntry = last
                $0.resyncs += 1
            }
            logger.info("cluster: online model synced to the head", metadata: ["snapshot": "\(snapshot.id)", "head": "\(current.id)"])
            return optimizerState
        }
        throw ClusterError("the head kept changing while it was read")
    }

    /// Serves `v` (a version another replica published).
    private func apply(_ v: ModelVersion) {
        registry.onlineSlot.publish(v)
        registry.published(v, slot: .online)
        state.withLock { $0.appliedVersions += 1 }
    }

    // MARK: - Train

    /// The versions to publish after `last`, oldest first: the learner's versions since `last` (the
    /// current one and its parents back to `last`), or the current one alone when it does not
    /// descend from `last` (a rollback; or the chain left the slot's history).
    private func unpublished(after last: ModelVersion?) -> [ModelVersion] {
        let slot = registry.onlineSlot
        guard let current = slot.current, let last, current.id != last.id else { return [] }
        var chain = [current]
        while chain.count < 256, let parent = chain.last?.parentID {
            if parent == last.id { return chain.reversed() }
            guard let v = slot.version(parent) else { break }
            chain.append(v)
        }
        return [current]
    }

    private func trainLoop(_ redis: RedisConnection) {
        var token: Int?
        var generation = 0
        var forceSnapshot = false
        var position = "0-0"
        var lastPublished: ModelVersion?
        /// Versions published since the last snapshot (a rollback to one of them is a point).
        var chain: Set<String> = []
        var lastSnapshot = ContinuousClock.now
        var snapshotPosition: String?
        while isRunning {
            let (lease, leaseGeneration) = state.withLock { ($0.held, $0.leaseGeneration) }
            guard let held = lease, let learner = registry.learner else {
                if token != nil {
                    token = nil
                    state.withLock { $0.readThrough = nil }
                    logger.notice("cluster: no longer the trainer")
                }
                pause(.milliseconds(50))
                continue
            }
            do {
                if token != held.token || generation != leaseGeneration {
                    // Take over: start from the head (or, in a new cluster, from this replica's own model).
                    let optimizerState = try syncToHead(redis)
                    let head = try channel.head(redis)
                    guard let base = registry.onlineSlot.current else { pause(.milliseconds(100)); continue }
                    if head == nil {
                        let bytes = try ModelFile.encode(base, optimizerState: learner.checkpointState().flatMap { $0.version === base ? $0.optimizerState : nil })
                        _ = try channel.publish(kind: .snapshot, id: base.id, parent: "", position: "0-0", bytes: bytes, lease: held, reason: "first", redis)
                        state.withLock { $0.publishedVersions += 1 }
                    }
                    position = head?.position ?? "0-0"
                    snapshotPosition = position
                    chain = [base.id]
                    learner.resume(from: base, optimizerState: optimizerState, nextID: (Int(base.id) ?? 0) + 1)
                    lastPublished = base
                    lastSnapshot = .now
                    token = held.token
                    generation = leaseGeneration
                    state.withLock { $0.readThrough = position }
                    logger.notice("cluster: training", metadata: ["from_version": "\(base.id)", "stream_position": "\(position)", "token": "\(held.token)"])
                }
                // Learn what was appended since. No blocking read: Redis times a block out on its hz tick
                // (up to 100 ms), and the learner's versions must be published as soon as they are made.
                let entries = try stream.read(after: position, count: 1000, block: nil, redis)
                for e in entries {
                    if let r = FeedbackRecord(bytes: e.payload), let seq = StreamPosition.number(e.id) {
                        learner.submit(OnlineLearner.Example(features: r.features, label: r.label, sequence: seq), force: true)
                    } else {
                        logger.error("cluster: a feedback stream entry of another format skipped", metadata: ["entry": "\(e.id)"])
                    }
                    position = e.id
                }
                if !entries.isEmpty { state.withLock { $0.readThrough = position } }
                // Publish what the learner made (or a rollback's target).
                // Publish what the learner made, every version of it in order (so every replica keeps the
                // same versions, and a rollback to any of them is a point), or a rollback's target.
                var published = 0
                for v in unpublished(after: lastPublished) {
                    guard let parent = lastPublished else { break }
                    let back = (Int(v.id) ?? 0) <= (Int(parent.id) ?? 0)
                    let kind: VersionChannel.Kind =
                        back && chain.contains(v.id) && !forceSnapshot ? .point
                        : forceSnapshot || back || ContinuousClock.now - lastSnapshot >= configuration.snapshotInterval || !v.hashesLike(parent) ? .snapshot
                        : .delta
                    let bytes: [UInt8]
                    var delta: [UInt8]?
                    switch kind {
                    case .snapshot:
                        let saved = learner.checkpointState()
                        bytes = try ModelFile.encode(v, optimizerState: saved?.version === v ? saved?.optimizerState : nil)
                        // The followers that serve the parent apply the delta, not the snapshot.
                        if !back, v.hashesLike(parent) { delta = try ModelDelta.encode(from: parent, to: v) }
                    case .delta: bytes = try ModelDelta.encode(from: parent, to: v)
                    case .point: bytes = []
                    }
                    let at = StreamPosition.id(v.feedbackOffset)
                    _ = try channel.publish(
                        kind: kind, id: v.id, parent: kind == .snapshot && delta == nil ? "" : parent.id, position: at, bytes: bytes,
                        delta: delta, lease: held, reason: back ? "rollback" : "learned", redis)
                    lastPublished = v
                    published += 1
                    forceSnapshot = false
                    state.withLock { $0.publishedVersions += 1 }
                    if kind == .snapshot {
                        lastSnapshot = .now
                        chain = [v.id]
                        // The stream before the previous snapshot is needed by nobody: a new trainer starts at the head.
                        if let old = snapshotPosition { try stream.trim(through: old, redis) }
                        snapshotPosition = at
                    } else {
                        chain.insert(v.id)
                    }
                }
                recovered()
                if entries.isEmpty && published == 0 { pause(.milliseconds(5)) }
            } catch let e as ClusterError where e.message.hasPrefix("NOSNAPSHOT") {
                logger.warning("cluster: Redis has no snapshot (restarted without its data?): publishing a full one", metadata: ["error": "\(e)"])
                forceSnapshot = true
            } catch let e as ClusterError where e.message.hasPrefix("FENCED") {
                state.withLock { $0.held = nil }
                logger.warning("cluster: a publication was fenced off: another replica holds the lease", metadata: ["error": "\(e)"])
                token = nil
            } catch {
                failed("train", error)
                token = nil
                pause(.milliseconds(200))
            }
        }
    }
}
