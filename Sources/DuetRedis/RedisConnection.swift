import CHiredis
import Foundation

/// One blocking connection to Redis over hiredis. Not thread-safe: one thread owns it at a time.
///
/// Every call waits at most `commandTimeout` for the socket (hiredis `redisSetTimeout`). After an
/// error the connection is dropped; the next call reconnects, but no sooner than a backoff
/// (doubling from 20 ms to 1 s) allows — until then calls fail at once, so a down Redis costs nothing.
///
///     let c = try RedisConnection(url: RedisURL(parsing: "redis://127.0.0.1:6379"))
///     let v = try c.command(["GET", "k"])
public final class RedisConnection {
    public let url: RedisURL
    public let connectTimeout: Duration
    public let commandTimeout: Duration
    private var context: UnsafeMutablePointer<redisContext>?
    private var backoff: Duration = .zero
    private var nextAttempt: ContinuousClock.Instant = .now
    private var encoder = RESPEncoder()

    /// Connects now; throws when Redis cannot be reached or refuses AUTH/SELECT.
    public init(url: RedisURL, connectTimeout: Duration = .milliseconds(500), commandTimeout: Duration = .seconds(5), lazy: Bool = false) throws {
        self.url = url
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        if !lazy { try connect() }
    }

    deinit { if let context { redisFree(context) } }

    private static func timeval(_ d: Duration) -> timeval {
        let c = d.components
        return Glibc.timeval(tv_sec: Int(c.seconds), tv_usec: Int(c.attoseconds / 1_000_000_000_000))
    }

    private func connect() throws {
        if let context { redisFree(context); self.context = nil }
        guard let c = redisConnectWithTimeout(url.host, Int32(url.port), Self.timeval(connectTimeout)) else {
            throw RedisError(.connection, "cannot allocate a Redis context for \(url)")
        }
        if c.pointee.err != 0 {
            let msg = Self.errorString(c)
            redisFree(c)
            throw RedisError(.connection, "cannot connect to \(url)", cause: msg)
        }
        if redisSetTimeout(c, Self.timeval(commandTimeout)) != 0 {
            redisFree(c)
            throw RedisError(.connection, "cannot set the socket timeout for \(url)")
        }
        context = c
        do {
            if let password = url.password {
                let args = url.username.map { ["AUTH", $0, password] } ?? ["AUTH", password]
                if case .error(let e) = try roundTrip([args])[0] { throw RedisError(.command, "AUTH refused by \(url)", cause: e) }
            }
            if url.database != 0 {
                if case .error(let e) = try roundTrip([["SELECT", String(url.database)]])[0] {
                    throw RedisError(.command, "SELECT \(url.database) refused by \(url)", cause: e)
                }
            }
        } catch {
            drop()
            throw error
        }
    }

    private static func errorString(_ c: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: c.pointee.errstr) { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            let n = bytes.firstIndex(of: 0) ?? bytes.count
            return String(decoding: bytes[..<n], as: UTF8.self)
        }
    }

    /// Closes the connection (the next call reconnects).
    public func drop() {
        if let context { redisFree(context) }
        context = nil
    }

    /// Makes sure a connection is open, honouring the reconnect backoff.
    private func ensureConnected() throws {
        if context != nil { return }
        let now = ContinuousClock.now
        if now < nextAttempt {
            throw RedisError(.connection, "Redis at \(url) is unreachable (next reconnect attempt in \(nextAttempt - now))")
        }
        do {
            try connect()
            backoff = .zero
        } catch {
            backoff = backoff == .zero ? .milliseconds(20) : min(backoff * 2, .seconds(1))
            nextAttempt = now + backoff
            throw error
        }
    }

    /// Sends one command and returns its reply (an error reply is returned as `.error`, not thrown).
    @discardableResult
    public func command(_ args: [String]) throws -> RedisValue {
        try pipeline([args])[0]
    }

    /// Sends many commands in one write and reads all replies (one round trip).
    public func pipeline(_ commands: [[String]]) throws -> [RedisValue] {
        try exchange { _ in try roundTrip(commands) }
    }

    /// One command whose reply is a bulk string of any bytes (`GET` of a binary value): its bytes as
    /// they are (`command` reads bulk strings as UTF-8 text), nil for a null reply. An error reply
    /// throws, as does any other kind of reply (the connection stays: the reply was read).
    public func bytes(_ args: [String]) throws -> [UInt8]? {
        try exchange { c in
            try queue(args, c)
            return try withReply(c) { r -> Result<[UInt8]?, RedisError> in
                let reply = r.pointee
                switch reply.type {
                case REDIS_REPLY_STRING:
                    guard let s = reply.str, reply.len > 0 else { return .success([]) }
                    return .success(Array(UnsafeRawBufferPointer(start: s, count: reply.len)))
                case REDIS_REPLY_NIL: return .success(nil)
                case REDIS_REPLY_ERROR:
                    var why = ""
                    if case .error(let e) = Self.convert(r) { why = e }
                    return .failure(RedisError(.command, "\(args.first ?? "") refused by \(url)", cause: why))
                default: return .failure(RedisError(.command, "\(args.first ?? "") at \(url): not a bulk string reply"))
                }
            }
        }.get()
    }

    /// Sends a pre-encoded batch (see `RESPEncoder`) and checks its replies with `check` (for bulk loads).
    public func pipeline(encoded: inout RESPEncoder, check: (Int, RedisValue) throws -> Void) throws {
        try exchange { c in
            let rc = encoded.bytes.withUnsafeBufferPointer { buf in
                buf.withMemoryRebound(to: CChar.self) { redisAppendFormattedCommand(c, $0.baseAddress, $0.count) }
            }
            guard rc == REDIS_OK else { throw RedisError(.connection, "cannot queue a pipeline to \(url)", cause: Self.errorString(c)) }
            for i in 0..<encoded.commands { try check(i, try readReply(c)) }
        }
    }

    /// `body` on the connected context. Anything it throws leaves replies out of step with commands,
    /// so the connection is dropped and made again on the next call.
    private func exchange<R>(_ body: (UnsafeMutablePointer<redisContext>) throws -> R) throws -> R {
        try ensureConnected()
        guard let c = context else { throw RedisError(.connection, "not connected to \(url)") }
        do {
            return try body(c)
        } catch {
            drop()
            nextAttempt = .now
            throw error
        }
    }

    /// Queues one command (sent with the next read).
    private func queue(_ args: [String], _ c: UnsafeMutablePointer<redisContext>) throws {
        let rc = Self.withCStrings(args) { argv, lens in redisAppendCommandArgv(c, Int32(args.count), argv, lens) }
        guard rc == REDIS_OK else { throw RedisError(.connection, "cannot queue a command to \(url)", cause: Self.errorString(c)) }
    }

    private func roundTrip(_ commands: [[String]]) throws -> [RedisValue] {
        guard let c = context else { throw RedisError(.connection, "not connected to \(url)") }
        for args in commands { try queue(args, c) }
        var replies: [RedisValue] = []
        replies.reserveCapacity(commands.count)
        for _ in commands { replies.append(try readReply(c)) }
        return replies
    }

    private func readReply(_ c: UnsafeMutablePointer<redisContext>) throws -> RedisValue {
        try withReply(c) { Self.convert($0) }
    }

    /// The next reply, read and freed around `body`.
    private func withReply<R>(_ c: UnsafeMutablePointer<redisContext>, _ body: (UnsafeMutablePointer<redisReply>) -> R) throws -> R {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(c, &raw) == REDIS_OK, let raw else {
            let why = c.pointee.err != 0 ? Self.errorString(c) : "no reply"
            throw RedisError(.connection, "Redis at \(url) failed", cause: why.isEmpty ? "I/O error (timeout?)" : why)
        }
        defer { freeReplyObject(raw) }
        return body(raw.assumingMemoryBound(to: redisReply.self))
    }

    private static func convert(_ r: UnsafeMutablePointer<redisReply>) -> RedisValue {
        let reply = r.pointee
        func text() -> String {
            guard let s = reply.str else { return "" }
            return s.withMemoryRebound(to: UInt8.self, capacity: reply.len) {
                String(decoding: UnsafeBufferPointer(start: $0, count: reply.len), as: UTF8.self)
            }
        }
        switch reply.type {
        case REDIS_REPLY_STRING: return .string(text())
        case REDIS_REPLY_STATUS: return .status(text())
        case REDIS_REPLY_ERROR: return .error(text())
        case REDIS_REPLY_INTEGER: return .integer(Int(reply.integer))
        case REDIS_REPLY_ARRAY:
            var items: [RedisValue] = []
            items.reserveCapacity(reply.elements)
            for i in 0..<reply.elements {
                if let e = reply.element[i] { items.append(convert(e)) } else { items.append(.null) }
            }
            return .array(items)
        default: return .null
        }
    }

    /// Calls `body` with C argv/argvlen arrays pointing into one contiguous buffer.
    private static func withCStrings<R>(_ args: [String], _ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R) -> R {
        var storage: [UInt8] = []
        var offsets: [Int] = []
        var lens: [Int] = []
        offsets.reserveCapacity(args.count)
        lens.reserveCapacity(args.count)
        for a in args {
            offsets.append(storage.count)
            lens.append(a.utf8.count)
            storage.append(contentsOf: a.utf8)
            storage.append(0)
        }
        return storage.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { cbuf in
                var argv: [UnsafePointer<CChar>?] = offsets.map { UnsafePointer(cbuf.baseAddress! + $0) }
                return argv.withUnsafeMutableBufferPointer { av in
                    lens.withUnsafeBufferPointer { body(av.baseAddress!, $0.baseAddress!) }
                }
            }
        }
    }
}
