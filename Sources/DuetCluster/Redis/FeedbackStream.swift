import DuetRedis
import Foundation

/// The feedback stream (`duet:{NAME}:feedback`): every replica appends accepted feedback, and the
/// trainer reads it in order from the position its last published version learned through.
///
/// An append is one script: it takes the (request, item) pair once across all replicas (`SET NX`
/// with the impression TTL) and then `XADD`s, so feedback is acknowledged only once it is in the
/// stream, and a duplicate sent to another replica is refused. Payloads are opaque bytes (base64 in
/// the entry's `p` field).
public struct FeedbackStream: Sendable {
    public let keys: ClusterKeys

    public init(keys: ClusterKeys) { self.keys = keys }

    public struct Entry: Sendable {
        public var id: String
        public var payload: [UInt8]
    }

    static let appendScript = """
        if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then return false end
        return redis.call('XADD', KEYS[1], '*', 'p', ARGV[1])
        """

    /// Appends `payload` unless feedback on (`requestID`, `item`) was already taken (then nil).
    /// Returns the entry id.
    public func append(_ payload: [UInt8], requestID: String, item: String, ttl: Duration, _ redis: RedisConnection) throws -> String? {
        let ms = max(1, ttl.milliseconds)
        let reply = try redis.command(["EVAL", Self.appendScript, "2", keys.feedback, keys.consumed(requestID, item: item),
                                       Data(payload).base64EncodedString(), String(ms)])
        if case .error(let e) = reply { throw ClusterError("feedback stream: \(e)") }
        return reply.text
    }

    /// Up to `count` entries after `position` (an entry id; `0-0` for the start), waiting up to
    /// `block` for the first one when there is none yet (nil: not waiting). Redis checks a block's
    /// timeout on its `hz` tick (100 ms by default), so a short block can last that long.
    public func read(after position: String, count: Int, block: Duration?, _ redis: RedisConnection) throws -> [Entry] {
        var args = ["XREAD", "COUNT", String(count)]
        if let block { args += ["BLOCK", String(block.milliseconds)] }
        let reply = try redis.command(args + ["STREAMS", keys.feedback, position])
        if case .error(let e) = reply { throw ClusterError("feedback stream: \(e)") }
        return StreamReply.entries(reply).map { e in
            Entry(id: e.id, payload: e.fields["p"].flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) } ?? [])
        }
    }

    /// The stream's length and its last entry id (`0-0` when empty).
    public func tail(_ redis: RedisConnection) throws -> (length: Int, last: String) {
        let replies = try redis.pipeline([["XLEN", keys.feedback], ["XREVRANGE", keys.feedback, "+", "-", "COUNT", "1"]])
        let last = replies[1].array.first?.array.first?.text ?? "0-0"
        return (replies[0].integer ?? 0, last)
    }

    /// Deletes the entries at or before `position` (what every version a replica may resume from has
    /// learned).
    public func trim(through position: String, _ redis: RedisConnection) throws {
        guard let n = StreamPosition.number(position), n > 0 else { return }
        _ = try redis.command(["XTRIM", keys.feedback, "MINID", StreamPosition.id(n + 1)])
    }
}
