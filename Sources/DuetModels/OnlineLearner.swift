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
        public init(features: [Feature], label: Double, weight: Double = 1) {
            self.features = features
            self.label = label
            self.weight = weight
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
    }

    struct State {
        var learner: Learner
        var queue: [Example] = []
        var stats = Stats()
        var nextID: Int
        var lastPublished: ModelVersion?
        var sincePublish = 0
        var pendingReset: ModelVersion?
    }

    public let slot: ModelSlot
    public let publishInterval: Duration
    public let publishEvery: Int
    public let queueCapacity: Int
    private let state: Mutex<State>
    /// Called after each publish (registry, metrics); runs on the learner's task.
    private let onPublish: @Sendable (ModelVersion) -> Void

    /// - Parameters:
    ///   - start: the version to continue from (a checkpoint, or the static model as a warm start).
    ///   - firstID: the number of the first version this learner publishes.
    public init(
        slot: ModelSlot, config: ModelConfig = ModelConfig(), start: ModelVersion? = nil, firstID: Int = 1,
        publishInterval: Duration = .milliseconds(250), publishEvery: Int = 10_000, queueCapacity: Int = 100_000,
        onPublish: @escaping @Sendable (ModelVersion) -> Void = { _ in }
    ) {
        self.slot = slot
        self.publishInterval = publishInterval
        self.publishEvery = max(1, publishEvery)
        self.queueCapacity = queueCapacity
        self.onPublish = onPublish
        self.state = Mutex(State(learner: Learner(config: config, start: start), nextID: firstID, lastPublished: start))
    }

    /// Queues an example; false (and counted as dropped) when the queue is full.
    @discardableResult
    public func submit(_ example: Example) -> Bool {
        let accepted = state.withLock { s -> Bool in
            guard s.queue.count < queueCapacity else {
                s.stats.dropped += 1
                return false
            }
            s.queue.append(example)
            return true
        }
        return accepted
    }

    /// Continue learning from `version` (after a rollback). Takes effect before the next example.
    public func reset(to version: ModelVersion) {
        state.withLock { $0.pendingReset = version }
    }

    public var stats: Stats {
        state.withLock { s in
            var st = s.stats
            st.logloss = s.learner.metrics.logloss
            st.windowLogloss = s.learner.metrics.windowLogloss
            st.auc = s.learner.metrics.auc
            st.queued = s.queue.count
            st.rejected = s.learner.rejections
            return st
        }
    }

    /// Scores with the learner's current (unpublished) weights: what the next version will say.
    public func predict(_ features: [Feature]) -> Double { state.withLock { $0.learner.predict(features) } }

    /// Learns until the task is cancelled; publishes a last version on the way out.
    public func run() async {
        var lastPublish = ContinuousClock.now
        while !Task.isCancelled {
            let batch: [Example] = state.withLock { s in
                if let v = s.pendingReset {
                    s.learner.reset(to: v)
                    s.lastPublished = v
                    s.pendingReset = nil
                }
                let b = s.queue
                s.queue.removeAll(keepingCapacity: true)
                return b
            }
            var start = 0
            while start < batch.count {
                // Learn in chunks so a long queue still publishes every `publishEvery` examples.
                let end = state.withLock { s -> Int in
                    var i = start
                    while i < batch.count && s.sincePublish < publishEvery {
                        let e = batch[i]
                        if case .success = s.learner.learn(e.features, label: e.label, weight: e.weight) {
                            s.stats.updates += 1
                            s.sincePublish += 1
                        }
                        i += 1
                    }
                    return i
                }
                start = end
                if state.withLock({ $0.sincePublish >= publishEvery }) {
                    publishNow()
                    lastPublish = ContinuousClock.now
                }
            }
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

    /// Publishes the current weights as a new version now (if anything was learned since the last).
    @discardableResult
    public func publishNow() -> ModelVersion? {
        let version: ModelVersion? = state.withLock { s in
            guard s.sincePublish > 0 else { return nil }
            let v = s.learner.publish(id: String(s.nextID), parentID: s.lastPublished?.id, kind: .online)
            s.nextID += 1
            s.sincePublish = 0
            s.lastPublished = v
            s.stats.published += 1
            return v
        }
        if let version {
            slot.publish(version)
            onPublish(version)
        }
        return version
    }
}
