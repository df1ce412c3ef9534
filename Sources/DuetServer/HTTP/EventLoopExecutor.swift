import NIOCore

/// A Swift Concurrency task executor that runs jobs on one NIO event loop. A connection's task
/// prefers the executor of its channel's event loop (`EventLoopChildChannel`), so reading a request,
/// running its handler and writing the answer happen on that one thread: no hop to Swift's global
/// pool and back per request, no wake-up of another thread. The rule that follows: code on a hot route
/// must not block (it awaits Redis, the feedback log and the learner); the other routes are moved off
/// the event loop (`OffEventLoopMiddleware`).
final class EventLoopExecutor: TaskExecutor, Sendable {
    let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        loop.execute { job.runSynchronously(on: executor) }
    }
}
