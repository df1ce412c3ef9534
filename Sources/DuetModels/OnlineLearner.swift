import Foundation
import Synchronization

/// The online model's single writer. Callers `submit` labelled examples (never blocking: a bounded
/// queue refuses when full and counts it); `run()` learns from them in order, scoring each before
/// learning (progressive validation), and publishes an immutable version into the slot every
/// `publishInterval` or `publishEvery` examples, whichever comes first.
public final class OnlineLearner: Sendable {
    public struct Example: Sendable {
        public var features: [Feature]
        public var label: Double
        public var weight: Double
        /// Its feedback-log sequence (0: not logged).
        public var sequence: UInt64
        public init(features: [Feature], label: Double, weight: Double = 1, sequence: UInt64 = 0) {
            self.features = features
            self.label = label
            self.weight = weight
            self.sequence = sequence
        }
    }

    public struct Stats: Sendable {
        public var updates = 0
        public var published = 0
        public var dropped = 0
        public var rejected: [RejectionReason: Int] = [:]
        public var logloss: Double?
        public var windowLogloss: Double?
        public var auc: Double?
        public var queued = 0
        /// The highest feedback-log sequence learned (or skipped as invalid).
        public var learnedThrough: UInt64 = 0
    }

    struct State {
        var learner: Learner
        var stats = Stats()
        var nextID: Int
        var lastPublished: ModelVersion?
        var sincePublish = 0
        var pendingReset: (version: ModelVersion, optimizerState: OptimizerState?, nextID: Int?)?
    }

    public let slot: ModelSlot
    public let publishInterval: Duration
    public let publishEvery: Int
    public let queueCapacity: Int
    private let state: Mutex<State>
    /// The examples waiting, and those refused, apart from `state`: `submit` (a feedback request, on
    /// an event loop) never waits for a learning step, a publish or a reset, which hold `state` for up
    /// to milliseconds.
    private let inbox = Mutex<(queue: [Example], dropped: Int)>(([], 0))
    /// Called after each publish (registry, metrics); runs on the learner's task.
    private let onPublish: @Sendable (ModelVersion) -> Void

    /// - Parameters:
    ///   - start: the version to continue from (a checkpoint, or the static model as a warm start).
    ///   - optimizerState: the optimizer state saved with `start` (nil: the optimizer starts fresh).
    ///   - firstID: the number of the first version this learner publishes.
    public init(
        slot: ModelSlot, config: ModelConfig = ModelConfig(), start: ModelVersion? = nil, optimizerState: OptimizerState? = nil, firstID: Int = 1,
        publishInterval: Duration = .milliseconds(250), publishEvery: Int = 10_000, queueCapacity: Int = 100_000,
        onPublish: @escaping @Sendable (ModelVersion) -> Void = { _ in }
    ) {
        self.slot = slot
        self.publishInterval = publishInterval
        self.publishEvery = max(1, publishEvery)
        self.queueCapacity = queueCapacity
        self.onPublish = onPublish
        var initial = State(learner: Learner(config: config, start: start, optimizerState: optimizerState), nextID: firstID, lastPublished: start)
        initial.stats.learnedThrough = start?.feedbackOffset ?? 0
        self.state = Mutex(initial)
    }

    /// Whether `submit` would take an example now (a caller that must log first asks before).
    public var hasRoom: Bool { inbox.withLock { $0.queue.count < queueCapacity } }

    /// Queues an example; false (and counted as dropped) when the queue is full. With `force` (an
    /// example already in the feedback log, room asked for before) it is queued regardless.
    @discardableResult
    public func submit(_ example: Example, force: Bool = false) -> Bool {
        inbox.withLock { i -> Bool in
            guard force || i.queue.count < queueCapacity else {
                i.dropped += 1
                return false
            }
            i.queue.append(example)
            return true
        }
    }

    /// Continue learning from `version` (after a rollback) and, when given, the optimizer state saved
    /// with it (else the learner keeps its own; see `Learner.reset`). Takes effect before the next example.
    public func reset(to version: ModelVersion, optimizerState: OptimizerState? = nil) {
        state.withLock { $0.pendingReset = (version, optimizerState, nil) }
    }

    /// The same, numbering the versions it publishes from `nextID` on (a cluster's new trainer
    /// continues the cluster's ids), and taking the learned-through position from `version`.
    public func resume(from version: ModelVersion, optimizerState: OptimizerState?, nextID: Int) {
        state.withLock { $0.pendingReset = (version, optimizerState, nextID) }
    }

    public var stats: Stats {
        var st = state.withLock { s in
            var st = s.stats
            st.logloss = s.learner.metrics.logloss
            st.windowLogloss = s.learner.metrics.windowLogloss
            st.auc = s.learner.metrics.auc
            st.rejected = s.learner.rejections
            return st
        }
        inbox.withLock { i in
            st.queued = i.queue.count
            st.dropped = i.dropped
        }
        return st
    }

    /// Scores with the learner's current (unpublished) weights: what the next version will say.
    public func predict(_ features: [Feature]) -> Double { state.withLock { $0.learner.predict(features) } }

    /// Learns until the task is cancelled; publishes a last version on the way out.
    public func run() async {
        var lastPublish = ContinuousClock.now
        // The inbox's queue is swapped for this emptied buffer: nothing copied, no new buffer per batch.
        var batch: [Example] = []
        while !Task.isCancelled {
            state.withLock { s in
                if let r = s.pendingReset {
                    s.learner.reset(to: r.version, optimizerState: r.optimizerState)
                    s.lastPublished = r.version
                    if let next = r.nextID {
                        s.nextID = next
                        s.stats.learnedThrough = r.version.feedbackOffset
                        s.sincePublish = 0
                    }
                    s.pendingReset = nil
                }
            }
            // After the reset: what was queued before it is learned from the version it resets to.
            batch.removeAll(keepingCapacity: true)
            inbox.withLock { swap(&$0.queue, &batch) }
            if learn(batch) { lastPublish = ContinuousClock.now }
            let due = state.withLock { $0.sincePublish >= publishEvery } || (ContinuousClock.now - lastPublish >= publishInterval && state.withLock { $0.sincePublish > 0 })
            if due {
                publishNow()
                lastPublish = ContinuousClock.now
            }
            if batch.isEmpty {
                // Idle: look again shortly (feedback → learned within a few ms, negligible idle CPU).
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        if state.withLock({ $0.sincePublish > 0 }) { publishNow() }
    }

    /// Learns `examples` now, on the caller's task (a replay of the feedback log at start, before
    /// `run`), publishing every `publishEvery` examples.
    public func replay(_ examples: [Example]) {
        learn(examples)
    }

    /// Examples learned per hold of the state's lock (well under a millisecond of updates).
    static let examplesPerHold = 256

    /// Learns `batch` in order, in chunks so a long batch still publishes every `publishEvery`
    /// examples. True when it published.
    @discardableResult
    private func learn(_ batch: [Example]) -> Bool {
        var published = false
        var start = 0
        while start < batch.count {
            start = state.withLock { s -> Int in
                var i = start
                // At most `examplesPerHold` per hold of the lock: a feedback request (`submit`) and the
                // metrics scrape (`stats`) wait for it.
                while i < batch.count && s.sincePublish < publishEvery && i - start < Self.examplesPerHold {
                    let e = batch[i]
                    if case .success = s.learner.learn(e.features, label: e.label, weight: e.weight) {
                        s.stats.updates += 1
                        s.sincePublish += 1
                    }
                    s.stats.learnedThrough = max(s.stats.learnedThrough, e.sequence)
                    i += 1
                }
                return i
            }
            if state.withLock({ $0.sincePublish >= publishEvery }) {
                publishNow()
                published = true
            }
        }
        return published
    }

    /// Publishes the current weights as a new version now (if anything was learned since the last).
    @discardableResult
    public func publishNow() -> ModelVersion? {
        let version = state.withLock { publish(&$0) }
        if let version { onPublish(version) }
        return version
    }

    /// The last published version and the optimizer state that goes with it, for a checkpoint: what
    /// was learned since is published first, so the two match. Nil before anything was published
    /// and while a reset waits (the learner's state is about to change). The state's arrays are
    /// shared until the learner's next update copies them (once; see `Learner.optimizerState`).
    public func checkpointState() -> (version: ModelVersion, optimizerState: OptimizerState)? {
        let (published, result) = state.withLock { s -> (ModelVersion?, (version: ModelVersion, optimizerState: OptimizerState)?) in
            guard s.pendingReset == nil else { return (nil, nil) }
            let published = publish(&s)
            guard let last = s.lastPublished else { return (published, nil) }
            return (published, (last, s.learner.optimizerState))
        }
        if let published { onPublish(published) }
        return result
    }

    /// Publishes into the slot under the learner's lock, so versions reach the slot in the order they
    /// were made whichever task publishes (the learner's loop, a checkpoint, shutdown).
    private func publish(_ s: inout State) -> ModelVersion? {
        guard s.sincePublish > 0 else { return nil }
        let v = s.learner.publish(id: String(s.nextID), parentID: s.lastPublished?.id, kind: .online, feedbackOffset: s.stats.learnedThrough)
        s.nextID += 1
        s.sincePublish = 0
        s.lastPublished = v
        s.stats.published += 1
        slot.publish(v)
        return v
    }
}
