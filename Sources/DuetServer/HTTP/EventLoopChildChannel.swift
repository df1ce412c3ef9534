import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's child channel (`HTTP1Channel`), with each connection handled by a task that prefers
/// its channel's event loop (`EventLoopExecutor`). Child tasks inherit the preference; `Task {}` and
/// `Task.detached` do not.
struct EventLoopChildChannel<Inner: ServerChildChannel>: ServerChildChannel {
    typealias Value = Inner.Value
    let inner: Inner

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await withTaskExecutorPreference(EventLoopExecutor(value.channel.eventLoop)) {
            await inner.handle(value: value, logger: logger)
        }
    }
}
