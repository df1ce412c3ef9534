import Dispatch
import Foundation
import Synchronization

/// Threads of the server's own for work that may block: reading and writing model files (with
/// `fsync`), the learner's loop, experiment files, start-up. `duet serve` runs Swift concurrency on
/// SwiftNIO's event loops (`DuetServerApp`), so a request's tasks never hop between NIO's threads and
/// Swift's pool; an event loop must then never block, and what can block runs here instead, as a
/// task executor preference:
///
///     try await withTaskExecutorPreference(background) { try await learner.run() }
///
/// Every service but the HTTP server, the start-up and the admin routes run here
/// (`BackgroundService`, `BackgroundMiddleware`). Jobs run in order of arrival, on the
/// first free thread.
public final class BackgroundExecutor: TaskExecutor, @unchecked Sendable {
    private let jobs = Mutex<[UnownedJob]>([])
    private let ready = DispatchSemaphore(value: 0)
    /// The threads' ids, once each has started.
    private let running = Mutex<[pthread_t]>([])

    /// `threads` threads, `name-0`, `name-1`, … to Foundation (this Foundation does not pass the name to
    /// the kernel: `top -H` shows the creator's); they live as long as the process.
    public init(name: String = "duet-background", threads: Int = 2) {
        for i in 0..<max(1, threads) {
            let t = Thread { [self] in loop() }
            t.name = "\(name)-\(i)"
            t.stackSize = 1 << 20
            t.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.withLock { $0.append(job) }
        ready.signal()
    }

    /// `body` on one of the threads (a hop there and back): for a blocking step inside work that
    /// otherwise belongs on the event loops.
    public func run<T: Sendable>(_ body: @Sendable () throws -> T) async rethrows -> T {
        try await withTaskExecutorPreference(self) { try body() }
    }

    /// Whether the caller runs on one of the threads.
    public var isCurrent: Bool {
        let me = pthread_self()
        return running.withLock { $0.contains { pthread_equal($0, me) != 0 } }
    }

    private func loop() {
        running.withLock { $0.append(pthread_self()) }
        while true {
            ready.wait()  // one signal per job
            guard let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

extension BackgroundExecutor {
    /// The server's one background executor (its threads live as long as the process, as
    /// `MultiThreadedEventLoopGroup.singleton`'s do).
    public static let shared = BackgroundExecutor()
    /// The online learner's loop, which under steady feedback learns without suspending: on a
    /// thread of its own, it keeps no other background work waiting.
    public static let learner = BackgroundExecutor(name: "duet-learner", threads: 1)
}
