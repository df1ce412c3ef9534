import DuetModels
import Foundation
import Synchronization

/// Live per-arm counts of one experiment revision: assignments (for SRM), requests, feedback,
/// clicks, progressive log loss, and a CTR timeline for the status page. Restarts with each revision;
/// the counts (not the timeline) are saved in SQLite and continue across restarts.
public final class ExperimentStats: Sendable {
    public struct Arm: Sendable, Codable, Equatable {
        public var assigned = 0
        public var requests = 0
        public var feedback = 0
        public var clicks = 0
        public var loglossSum = 0.0
        public var loglossCount = 0
        public var logloss: Double? { loglossCount > 0 ? loglossSum / Double(loglossCount) : nil }
    }

    struct Bucket {
        var start: Int
        var feedback: [Int]
        var clicks: [Int]
    }

    struct State {
        var arms: [Arm]
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

    /// A request served by `arm`; `counted` when the user was in the experiment (not forced, not outside).
    func served(arm: Int, counted: Bool) {
        state.withLock { s in
            guard arm < s.arms.count else { return }
            s.arms[arm].requests += 1
            if counted { s.arms[arm].assigned += 1 }
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

    public var arms: [Arm] { state.withLock { $0.arms } }

    /// Continues from saved counts (ignored when the number of arms differs).
    func restore(_ saved: [Arm]) {
        state.withLock { s in
            guard saved.count == s.arms.count else { return }
            for i in s.arms.indices {
                s.arms[i].assigned += saved[i].assigned
                s.arms[i].requests += saved[i].requests
                s.arms[i].feedback += saved[i].feedback
                s.arms[i].clicks += saved[i].clicks
                s.arms[i].loglossSum += saved[i].loglossSum
                s.arms[i].loglossCount += saved[i].loglossCount
            }
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
