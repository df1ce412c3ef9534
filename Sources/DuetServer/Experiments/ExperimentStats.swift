import DuetEvaluation
import DuetModels
import Foundation
import Synchronization

/// Live per-arm counts of one experiment revision: distinct users (for SRM), requests, feedback,
/// clicks, progressive log loss, off-policy estimates, and a CTR timeline for the status page.
/// Restarts with each revision; the counts (not the timeline) are saved in SQLite and continue
/// across restarts.
///
/// Only users hashed into the experiment count: requests of forced users (`force:`, QA traffic, not
/// randomised) and of users outside its coverage or namespace (served the default arm) are counted
/// apart, in `excluded`, and their feedback is left out of every per-arm figure.
public final class ExperimentStats: Sendable {
    public struct Arm: Sendable, Codable, Equatable {
        /// Distinct users (`SeenUsers`: each counted the first time the experiment sees it).
        public var assigned = 0
        /// Requests of users in the experiment.
        public var requests = 0
        public var feedback = 0
        public var clicks = 0
        public var loglossSum = 0.0
        public var loglossCount = 0
        /// Off-policy estimates from this arm's traffic, by target arm (see `PolicyValue`); filled only
        /// while this arm explores (a greedy arm gives no other choice a chance to be seen).
        var policyValues: [PolicyValue] = []
        /// This arm's model's log loss minus the first arm's, both scoring every feedback event of
        /// the experiment (arms after the first only).
        public var pairedLoss: MeanConfidenceSequence?
        /// The first arm's (control) and this arm's (treatment) users' first feedback on a
        /// recommendation their arm's model chose (arms after the first only).
        public var userCTR: DifferenceConfidenceSequence?
        public var logloss: Double? { loglossCount > 0 ? loglossSum / Double(loglossCount) : nil }

        /// The confidence sequences every report uses: 95%, always valid (Howard et al. 2021),
        /// tightest near 10,000 observations. Paired losses are clipped into [−1, 1].
        static func newPairedLoss() -> MeanConfidenceSequence {
            MeanConfidenceSequence(range: -1...1, alpha: 0.05, plannedCount: 10_000, plannedVariance: 0.01)
        }

        static func newUserCTR() -> DifferenceConfidenceSequence {
            DifferenceConfidenceSequence(range: 0...1, alpha: 0.05, plannedCount: 10_000, plannedVariance: 0.01)
        }

        init() {}

        enum CodingKeys: String, CodingKey {
            case assigned, requests, feedback, clicks, loglossSum, loglossCount, policyValues, pairedLoss, userCTR
        }

        /// Counts saved before a field existed read it as empty.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            assigned = try c.decodeIfPresent(Int.self, forKey: .assigned) ?? 0
            requests = try c.decodeIfPresent(Int.self, forKey: .requests) ?? 0
            feedback = try c.decodeIfPresent(Int.self, forKey: .feedback) ?? 0
            clicks = try c.decodeIfPresent(Int.self, forKey: .clicks) ?? 0
            loglossSum = try c.decodeIfPresent(Double.self, forKey: .loglossSum) ?? 0
            loglossCount = try c.decodeIfPresent(Int.self, forKey: .loglossCount) ?? 0
            policyValues = try c.decodeIfPresent([PolicyValue].self, forKey: .policyValues) ?? []
            pairedLoss = try c.decodeIfPresent(MeanConfidenceSequence.self, forKey: .pairedLoss)
            userCTR = try c.decodeIfPresent(DifferenceConfidenceSequence.self, forKey: .userCTR)
        }

        /// Adds `other`'s counts to these.
        mutating func merge(_ other: Arm) {
            assigned += other.assigned
            requests += other.requests
            feedback += other.feedback
            clicks += other.clicks
            loglossSum += other.loglossSum
            loglossCount += other.loglossCount
            if policyValues.count < other.policyValues.count {
                policyValues += Array(repeating: PolicyValue(), count: other.policyValues.count - policyValues.count)
            }
            for (i, v) in other.policyValues.enumerated() { policyValues[i].merge(v) }
            if let p = other.pairedLoss {
                if pairedLoss == nil { pairedLoss = p } else if pairedLoss!.boundary == p.boundary && pairedLoss!.range == p.range { pairedLoss!.merge(p) }
            }
            if let u = other.userCTR {
                if userCTR == nil { userCTR = u } else if userCTR!.boundary == u.boundary && userCTR!.range == u.range { userCTR!.merge(u) }
            }
        }
    }

    struct Bucket {
        var start: Int
        var feedback: [Int]
        var clicks: [Int]
    }

    /// Requests not counted for any arm.
    public struct Excluded: Sendable, Equatable, Codable {
        public var forced = 0
        public var outside = 0
    }

    /// What is saved, and compared to decide whether anything changed.
    struct Saved: Sendable, Equatable {
        var arms: [Arm]
        var excluded: Excluded
        var users: SeenUsers?
        var feedbackUsers: SeenUsers? = nil
    }

    struct State {
        var arms: [Arm]
        var excluded = Excluded()
        /// Allocated with the first counted user (256 KiB).
        var users: SeenUsers?
        /// Users whose first feedback on a model's choice was counted (`userCTR`), allocated likewise.
        var feedbackUsers: SeenUsers?
        var timeline: [Bucket] = []
    }

    public let revision: Int
    public let bucketSeconds: Int
    let maxBuckets = 60
    private let state: Mutex<State>

    init(revision: Int, arms: Int, bucketSeconds: Int = 10) {
        self.revision = revision
        self.bucketSeconds = bucketSeconds
        self.state = Mutex(State(arms: Array(repeating: Arm(), count: arms)))
    }

    /// A request of `user` served by `arm`. Counted for the arm when the user was hashed into the
    /// experiment; else counted apart as forced or outside.
    /// Returns whether `user` was new here (not in this process's filter of the revision's users).
    @discardableResult
    func served(arm: Int, user: String, inExperiment: Bool, forced: Bool) -> Bool {
        state.withLock { s in
            guard arm < s.arms.count else { return false }
            if forced {
                s.excluded.forced += 1
            } else if !inExperiment {
                s.excluded.outside += 1
            } else {
                s.arms[arm].requests += 1
                if s.users == nil { s.users = SeenUsers() }
                if s.users!.insert(user) {
                    s.arms[arm].assigned += 1
                    return true
                }
            }
            return false
        }
    }

    /// Requests of forced users and of users outside the experiment.
    public var excluded: Excluded { state.withLock { $0.excluded } }

    /// Distinct users counted so far (all arms).
    public var users: Int { state.withLock { $0.users?.count ?? 0 } }

    var saved: Saved { state.withLock { Saved(arms: $0.arms, excluded: $0.excluded, users: $0.users, feedbackUsers: $0.feedbackUsers) } }

    /// One feedback event scored by every arm's model: `losses[i]` is arm i's log loss (nil when its
    /// model could not score the event's features).
    func pairedLoss(_ losses: [Double?]) {
        state.withLock { s in
            guard losses.count == s.arms.count, let base = losses[0] else { return }
            for b in s.arms.indices.dropFirst() {
                guard let l = losses[b] else { continue }
                if s.arms[b].pairedLoss == nil { s.arms[b].pairedLoss = Arm.newPairedLoss() }
                s.arms[b].pairedLoss!.add(l - base)
            }
        }
    }

    /// Feedback on a recommendation `arm`'s model chose (it had more candidates than it showed):
    /// the user's first such feedback is their observation for the CTR comparison on users.
    func choiceFeedback(arm: Int, user: String, label: Double) {
        state.withLock { s in
            guard arm < s.arms.count, s.arms.count > 1 else { return }
            if s.feedbackUsers == nil { s.feedbackUsers = SeenUsers() }
            guard s.feedbackUsers!.insert(user) else { return }
            let targets = arm == 0 ? Array(s.arms.indices.dropFirst()) : [arm]
            for b in targets {
                if s.arms[b].userCTR == nil { s.arms[b].userCTR = Arm.newUserCTR() }
                s.arms[b].userCTR!.add(label, arm: arm == 0 ? .control : .treatment)
            }
        }
    }

    /// Feedback joined for `arm`, with the served model's predicted probability for log loss.
    func feedback(arm: Int, label: Double, predicted: Double?, now: Date) {
        let t = Int(now.timeIntervalSince1970) / bucketSeconds * bucketSeconds
        state.withLock { s in
            guard arm < s.arms.count else { return }
            s.arms[arm].feedback += 1
            if Click.isClick(label) { s.arms[arm].clicks += 1 }
            if let p = predicted, p.isFinite {
                s.arms[arm].loglossSum += ProgressiveMetrics.logloss(p: p, label: label)
                s.arms[arm].loglossCount += 1
            }
            if s.timeline.last?.start != t {
                s.timeline.append(Bucket(start: t, feedback: Array(repeating: 0, count: s.arms.count), clicks: Array(repeating: 0, count: s.arms.count)))
                if s.timeline.count > maxBuckets { s.timeline.removeFirst(s.timeline.count - maxBuckets) }
            }
            s.timeline[s.timeline.count - 1].feedback[arm] += 1
            if Click.isClick(label) { s.timeline[s.timeline.count - 1].clicks[arm] += 1 }
        }
    }

    /// The first shown item of an impression served by `arm` got its feedback: one event for the
    /// estimate of every target arm's policy value from this arm's traffic.
    func offPolicy(arm: Int, events: [(target: Int, event: LoggedEvent)]) {
        state.withLock { s in
            guard arm < s.arms.count else { return }
            for (target, event) in events where target < s.arms.count {
                if s.arms[arm].policyValues.count < s.arms.count {
                    s.arms[arm].policyValues = Array(repeating: PolicyValue(), count: s.arms.count)
                }
                s.arms[arm].policyValues[target].add(event)
            }
        }
    }

    public var arms: [Arm] { state.withLock { $0.arms } }

    /// Continues from saved counts (ignored when the number of arms differs).
    func restore(_ saved: Saved) {
        state.withLock { s in
            guard saved.arms.count == s.arms.count else { return }
            for i in s.arms.indices { s.arms[i].merge(saved.arms[i]) }
            s.excluded.forced += saved.excluded.forced
            s.excluded.outside += saved.excluded.outside
            if let users = saved.users { s.users = users }
            if let users = saved.feedbackUsers { s.feedbackUsers = users }
        }
    }

    /// CTR per bucket per arm (nil where an arm had no feedback in a bucket).
    public var ctrSeries: [[Double?]] {
        state.withLock { s in
            (0..<s.arms.count).map { a in
                s.timeline.map { b in b.feedback[a] > 0 ? Double(b.clicks[a]) / Double(b.feedback[a]) : nil }
            }
        }
    }
}
