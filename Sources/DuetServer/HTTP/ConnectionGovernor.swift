import HTTPTypes
import NIOCore
import NIOHTTPTypes
import Synchronization

/// Keeps the server answerable under a flood of connections that do nothing, without ever refusing
/// to accept one (a refused accept makes a health check wait behind the flood):
///
/// - a connection that has not sent a whole first request head within `headerTimeout` of being
///   opened is closed: silent or slow clients cannot hold a connection (an idle keep-alive
///   connection is closed by the server's idle timeout);
/// - past `maxConnections` open connections, each new one closes the connection that has been idle
///   (no request in progress) the longest, preferring those that never sent a request, as nginx
///   reuses idle keep-alive connections when it runs out. A connection with a request in progress is
///   never closed for room.
///
/// - after a 413 the connection closes the way nginx's lingering close does: the answer is sent and
///   the output shut (the client sees the 413 and the end of the stream), then whatever the client
///   still sends is read and thrown away until it closes its side or `lingerTime` passes. Closing at
///   once with unread bytes in the socket would make the kernel answer with a reset, which can reach
///   the client before the 413 does.
///
/// One `Handler` per connection, added by Hummingbird after HTTP decoding; the bookkeeping is one
/// small lock per open/close and per request.
final class ConnectionGovernor: Sendable {
    struct Entry {
        let channel: any Channel
        var busy = false
        var requests = 0
        var idleSince: NIODeadline
    }

    let maxConnections: Int
    let headerTimeout: TimeAmount
    /// How long a refused connection goes on reading (and dropping) what its client still sends.
    static let lingerTime = TimeAmount.seconds(2)
    private let entries = Mutex<[ObjectIdentifier: Entry]>([:])
    private let closedForRoom = Mutex(0)

    init(maxConnections: Int, headerTimeout: Duration) {
        self.maxConnections = max(1, maxConnections)
        let c = headerTimeout.components
        self.headerTimeout = .nanoseconds(c.seconds * 1_000_000_000 + c.attoseconds / 1_000_000_000)
    }

    /// Connections open now, and how many were closed to make room since start.
    var counts: (open: Int, closedForRoom: Int) { (entries.withLock { $0.count }, closedForRoom.withLock { $0 }) }

    func makeHandler() -> Handler { Handler(governor: self) }

    func opened(_ channel: any Channel) {
        let victim: (any Channel)? = entries.withLock { e in
            e[ObjectIdentifier(channel)] = Entry(channel: channel, idleSince: .now())
            guard e.count > maxConnections else { return nil }
            // The longest idle; one that never asked for anything goes before a keep-alive client.
            var best: Entry?
            for entry in e.values where !entry.busy && entry.channel !== channel {
                if best.map({ Self.closesFirst(entry, before: $0) }) ?? true { best = entry }
            }
            if let b = best { e[ObjectIdentifier(b.channel)] = nil }
            return best?.channel
        }
        if let victim {
            closedForRoom.withLock { $0 += 1 }
            victim.close(promise: nil)
        }
    }

    /// Which idle connection goes first: one that never sent a request, then the longest idle.
    static func closesFirst(_ a: Entry, before b: Entry) -> Bool {
        let aSilent = a.requests == 0, bSilent = b.requests == 0
        return aSilent != bSilent ? aSilent : a.idleSince < b.idleSince
    }

    func closed(_ channel: any Channel) {
        _ = entries.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    func requestStarted(_ channel: any Channel) {
        entries.withLock { e in
            e[ObjectIdentifier(channel)]?.busy = true
            e[ObjectIdentifier(channel)]?.requests += 1
        }
    }

    func requestEnded(_ channel: any Channel) {
        entries.withLock { e in
            e[ObjectIdentifier(channel)]?.busy = false
            e[ObjectIdentifier(channel)]?.idleSince = .now()
        }
    }

    /// Watches one connection: request heads in, response ends out, and the header timeout.
    final class Handler: ChannelDuplexHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPRequestPart
        typealias InboundOut = HTTPRequestPart
        typealias OutboundIn = HTTPResponsePart
        typealias OutboundOut = HTTPResponsePart

        let governor: ConnectionGovernor
        private var timeout: Scheduled<Void>?
        /// Set when a 413 is being answered: everything read from then on is dropped.
        private var lingering = false
        private var lingerTimeout: Scheduled<Void>?

        init(governor: ConnectionGovernor) { self.governor = governor }

        func handlerAdded(context: ChannelHandlerContext) {
            governor.opened(context.channel)
            let channel = context.channel
            timeout = context.eventLoop.scheduleTask(in: governor.headerTimeout) {
                channel.close(promise: nil)
            }
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            timeout?.cancel()
            lingerTimeout?.cancel()
            governor.closed(context.channel)
        }

        func channelInactive(context: ChannelHandlerContext) {
            timeout?.cancel()
            lingerTimeout?.cancel()
            governor.closed(context.channel)
            context.fireChannelInactive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if lingering { return }
            if case .head = unwrapInboundIn(data) {
                timeout?.cancel()
                timeout = nil
                governor.requestStarted(context.channel)
            }
            context.fireChannelRead(data)
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            switch unwrapOutboundIn(data) {
            case .head(let head) where head.status == .contentTooLarge:
                lingering = true
                context.write(data, promise: promise)
            case .end where lingering:
                governor.requestEnded(context.channel)
                // Once the answer is on the wire: shut the output (the client reads the 413, then the
                // end of the stream) and keep reading until the client closes or the linger time ends.
                let written = context.eventLoop.makePromise(of: Void.self)
                written.futureResult.cascade(to: promise)
                let channel = context.channel
                written.futureResult.whenComplete { _ in channel.close(mode: .output, promise: nil) }
                lingerTimeout = context.eventLoop.scheduleTask(in: ConnectionGovernor.lingerTime) {
                    channel.close(promise: nil)
                }
                context.write(data, promise: written)
            case .end:
                governor.requestEnded(context.channel)
                context.write(data, promise: promise)
            default:
                context.write(data, promise: promise)
            }
        }

    }
}
