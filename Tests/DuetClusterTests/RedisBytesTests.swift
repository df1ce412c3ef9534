import DuetRedis
import DuetTestSupport
import Testing

/// Binary values on a real Redis: what `RESPEncoder.argument(bytes:)` writes, `RedisConnection.bytes`
/// reads back byte for byte (impression copies are stored so, not as base64).
@Suite struct RedisBytesTests {
    @Test func anyBytesComeBackAsTheyWent() throws {
        let redis = try RedisServer.start()
        defer { redis.stop() }
        let connection = try RedisConnection(url: RedisURL(parsing: redis.url))
        // Every byte value, invalid UTF-8 (a lone continuation byte, an overlong form), NULs, CR LF.
        let value: [UInt8] = Array(0...255) + [0x80, 0xC0, 0xAF, 0, 0, 13, 10, 0xFF]
        var encoder = RESPEncoder()
        encoder.beginCommand(arguments: 3)
        encoder.argument("SET")
        encoder.argument("bin")
        encoder.argument(bytes: value)
        try connection.pipeline(encoded: &encoder) { _, reply in #expect(reply == .status("OK")) }
        #expect(try connection.bytes(["GET", "bin"]) == value)
        #expect(try connection.bytes(["GET", "missing"]) == nil)
        _ = try connection.command(["SET", "empty", ""])
        #expect(try connection.bytes(["GET", "empty"]) == [])
        // A refused command throws and leaves the connection usable.
        _ = try connection.command(["HSET", "hash", "f", "v"])
        let refused = #expect(throws: RedisError.self) { try connection.bytes(["GET", "hash"]) }
        #expect(refused?.code == .command && refused?.cause?.hasPrefix("WRONGTYPE") == true, "\(String(describing: refused))")
        #expect(try connection.bytes(["GET", "bin"]) == value)
    }
}
