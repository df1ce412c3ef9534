import Atomics
import Dispatch
import Foundation
import Synchronization

/// A small pool of dedicated threads, each owning one `RedisConnection` and a bounded job queue.
///
/// hiredis calls block, so they run here — never on a SwiftNIO event loop or the Swift concurrency
/// pool. `run` suspends the caller (a continuation) and resumes it when the job finishes *or* the
/// deadline passes, whichever comes first; a late job's result is dropped. A job whose deadline has
/// passed before a thread picks it up is skipped. A full queue fails at once (`overloaded`).
public final class RedisWorkerPool: Sendable {
    public struct Job: Sendable {
        let deadline: ContinuousClock.Instant
        let work: @Sendable (RedisConnection) -> Void
        let expired: @Sendable () -> Void
    }

    public final class Worker: @unchecked Sendable {
        let queue = Mutex<[Job]>([])
        let signal = DispatchSemaphore(value: 0)
        let capacity: Int
        // Only touched by the worker's own thread.
        let connection: RedisConnection

        init(connection: RedisConnection, capacity: Int) {
            self.connection = connection
            self.capacity = capacity
        }

        func submit(_ job: Job) -> Bool {
            let ok = queue.withLock { q in
                guard q.count < capacity else { return false }
                q.append(job)
                return true
            }
            if ok { signal.signal() }
            return ok
        }

        func loop(stopped: ManagedAtomic<Bool>) {
            while true {
                signal.wait()
                if stopped.load(ordering: .acquiring) {
                    let rest = queue.withLock { q in let r = q; q.removeAll(); return r }
                    for j in rest { j.expired() }
                    return
                }
                guard let job = queue.withLock({ q in q.isEmpty ? nil : q.removeFirst() }) else { continue }
                if ContinuousClock.now >= job.deadline { job.expired(); continue }
                job.work(connection)
            }
        }
    }

    private let workers: [Worker]
    private let next = ManagedAtomic<Int>(0)
    private let stopped = ManagedAtomic<Bool>(false)
    public static let timerQueue = DispatchQueue(label: "duet.features.deadline", qos: .userInitiated)

    /// `threads` connections to `url` (opened lazily, so a down Redis does not fail the start).
    public init(url: RedisURL, threads: Int, queueCapacity: Int, connectTimeout: Duration, commandTimeout: Duration) throws {
        var ws: [Worker] = []
        for _ in 0..<max(1, threads) {
            let c = try RedisConnection(url: url, connectTimeout: connectTimeout, commandTimeout: commandTimeout, lazy: true)
            ws.append(Worker(connection: c, capacity: max(1, queueCapacity)))
        }
        workers = ws
        for (i, w) in ws.enumerated() {
            let stopped = self.stopped
            let t = Thread { w.loop(stopped: stopped) }
            t.name = "duet-redis-\(i)"
            t.stackSize = 1 << 20
            t.start()
        }
    }

    /// Opens every connection in the background (a PING per thread), so the first reads do not pay for it.
    public func warmUp() {
        for w in workers {
            _ = w.submit(Job(deadline: .now + .seconds(5), work: { conn in _ = try? conn.command(["PING"]) }, expired: {}))
        }
    }

    /// Stops the threads (pending jobs resume as expired); their connections close when the threads end.
    public func shutdown() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for w in workers { w.signal.signal() }
    }

    deinit { shutdown() }

    /// Runs `body` on a pool thread; returns its result, or `.timeout`/`.overloaded` when the deadline
    /// passes first or every queue is full. Never waits past `deadline` (plus scheduling noise).
    public func run<T: Sendable>(deadline: ContinuousClock.Instant, _ body: @escaping @Sendable (RedisConnection) throws -> T) async -> Result<T, RedisError> {
        if stopped.load(ordering: .relaxed) { return .failure(RedisError(.overloaded, "feature store is shut down")) }
        let remaining = ContinuousClock.now.duration(to: deadline)
        if remaining <= .zero { return .failure(RedisError(.timeout, "read budget exhausted")) }
        return await withCheckedContinuation { (cont: CheckedContinuation<Result<T, RedisError>, Never>) in
            let once = ResumeOnce(cont)
            let job = Job(
                deadline: deadline,
                work: { conn in
                    let r: Result<T, RedisError>
                    do { r = .success(try body(conn)) } catch let e as RedisError { r = .failure(e) } catch {
                        r = .failure(RedisError(.command, "\(error)"))
                    }
                    once.resume(r)
                },
                expired: { once.resume(.failure(RedisError(.timeout, "read budget exhausted before Redis was asked"))) }
            )
            let start = next.wrappingIncrementThenLoad(ordering: .relaxed)
            var queued = false
            for k in 0..<workers.count where workers[Int(UInt(bitPattern: start &+ k) % UInt(workers.count))].submit(job) {
                queued = true
                break
            }
            guard queued else {
                once.resume(.failure(RedisError(.overloaded, "all Redis worker queues are full")))
                return
            }
            let c = remaining.components
            let nanos = Int(c.seconds) * 1_000_000_000 + Int(c.attoseconds / 1_000_000_000)
            Self.timerQueue.asyncAfter(deadline: .now() + .nanoseconds(nanos)) {
                once.resume(.failure(RedisError(.timeout, "Redis did not answer within the read budget")))
            }
        }
    }
}

/// Resumes a continuation exactly once, from whichever side gets there first.
public final class ResumeOnce<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, Never>?>

    public init(_ c: CheckedContinuation<T, Never>) { continuation = Mutex(c) }

    public func resume(_ value: T) {
        let c = continuation.withLock { c -> CheckedContinuation<T, Never>? in
            let taken = c
            c = nil
            return taken
        }
        c?.resume(returning: value)
    }
}
