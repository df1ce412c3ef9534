import DuetTestSupport
import Foundation
import Testing

/// Requests an attacker or a broken client sends, against the real binary on loopback.
@Suite(.serialized) struct HostileRequestTests {
    /// Sends raw bytes on a fresh connection and reads until the server closes it (or `timeout`).
    static func raw(port: Int, _ text: String, timeout: Double = 5) throws -> (reply: String, closed: Bool, reset: Bool, seconds: Double) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        precondition(fd >= 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        try #require(connected == 0, "connect to 127.0.0.1:\(port) failed")
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
        let start = Date()
        var reply: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 4096), closed = false, reset = false
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { closed = true; break }
            if n < 0 { reset = errno == ECONNRESET; break }  // reset, or timed out with the connection still open
            reply += buffer[0..<n]
        }
        return (String(decoding: reply, as: UTF8.self), closed, reset, Date().timeIntervalSince(start))
    }

    @Test func anOversizedContentLengthIsRefusedBeforeItsBodyAndTheConnectionCloses() async throws {
        let s = try await ServerHarness.start(try ServerHarness.dataDirectory())
        defer { s.stop() }
        // No body is ever sent: the 413 must come from the header alone, and the connection must close.
        let r = try Self.raw(port: s.port, "POST /v1/recommend HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n")
        #expect(r.reply.hasPrefix("HTTP/1.1 413"), "\(r.reply)")
        #expect(r.reply.contains("body_too_large"))
        #expect(r.closed, "the connection stayed open after the 413")
        #expect(r.seconds < 4)
        // The server still serves.
        #expect(try await s.get("/healthz").0 == 200)
    }

    /// A client that sends its whole oversized body gets the 413, then the end of the stream, never a
    /// reset: the server reads and drops the rest (a close with unread bytes makes the kernel reset the
    /// connection, and the reset can overtake the answer: CI saw URLSession fail that way).
    @Test func aClientThatSendsAWholeOversizedBodyReadsThe413() async throws {
        let s = try await ServerHarness.start(try ServerHarness.dataDirectory())
        defer { s.stop() }
        let body = String(repeating: " ", count: 3 << 20) + "{}"
        for _ in 0..<3 {
            let r = try Self.raw(port: s.port, "POST /v1/recommend HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body)
            #expect(r.reply.hasPrefix("HTTP/1.1 413"), "\(r.reply)")
            #expect(r.closed && !r.reset, "closed \(r.closed), reset \(r.reset)")
        }
        #expect(try await s.get("/healthz").0 == 200)
    }

    @Test func silentConnectionsAreClosedAfterTheHeaderTimeout() async throws {
        let s = try await ServerHarness.start(try ServerHarness.dataDirectory(), ["--config", try Self.config("header_timeout_seconds: 1\nidle_timeout_seconds: 60\n")])
        defer { s.stop() }
        // A connection that never sends a request is closed after the header timeout (not the 60 s idle one).
        let silent = try Self.raw(port: s.port, "", timeout: 10)
        #expect(silent.closed && silent.seconds < 4, "\(silent)")
        // So is one that sends half a request head and stops (slowloris).
        let slow = try Self.raw(port: s.port, "GET /healthz HTTP/1.1\r\nHost: x\r\n", timeout: 10)
        #expect(slow.closed && slow.seconds < 4, "\(slow)")
    }

    @Test func aFloodOfIdleConnectionsNeverMakesHealthzWait() async throws {
        // Timeouts far beyond the test: only making room can keep /healthz answerable.
        let s = try await ServerHarness.start(try ServerHarness.dataDirectory(), ["--config", try Self.config("header_timeout_seconds: 120\nidle_timeout_seconds: 120\nmax_connections: 20\n")])
        defer { s.stop() }
        var held: [Int32] = []
        defer { held.forEach { close($0) } }
        for _ in 0..<60 { held.append(try Self.open(port: s.port)) }
        for i in 0..<5 {
            let r = try Self.raw(port: s.port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout: 8)
            #expect(r.reply.hasPrefix("HTTP/1.1 200"), "try \(i): \(r.reply)")
            #expect(r.seconds < 2, "try \(i) waited \(r.seconds) s")
        }
        // The flood paid for it: its oldest connections were closed for room.
        try await Task.sleep(for: .milliseconds(300))
        let closedByServer = held.prefix(40).count { fd in
            var b: UInt8 = 0
            return recv(fd, &b, 1, Int32(MSG_DONTWAIT)) == 0
        }
        #expect(closedByServer >= 30, "\(closedByServer) of the 40 oldest idle connections were closed")
        // A keep-alive client in the middle of a request is never closed for room: it gets its answer.
        #expect(try await s.get("/readyz").0 == 200)
    }

    static func config(_ text: String) throws -> String {
        let file = try TestSupport.temporaryDirectory("serve-config").appendingPathComponent("duet.yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    static func open(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        try #require(fd >= 0 && connected == 0)
        return fd
    }

    @Test func aClientThatHangsUpMidBodyIsNotAServerError() async throws {
        let s = try await ServerHarness.start(try ServerHarness.dataDirectory())
        defer { s.stop() }
        for _ in 0..<3 {
            let fd = try Self.open(port: s.port)
            let head = "POST /v1/recommend HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"experiment\""
            _ = Array(head.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            usleep(100_000)
            close(fd)
        }
        try await Task.sleep(for: .milliseconds(300))
        let metrics = String(decoding: try await s.get("/metrics").1, as: UTF8.self)
        let lines = metrics.split(separator: "\n").filter { $0.hasPrefix("duet_http_requests_total{route=\"/v1/recommend\"") }
        #expect(!lines.contains { $0.contains("status=\"500\"") }, "\(lines)")
        #expect(lines.contains { $0.contains("status=\"499\"") && $0.hasSuffix(" 3") }, "\(lines)")
    }

    @Test func contextLimitsAreEnforcedAndNamed() async throws {
        let s = try await ServerHarness.start(try ServerHarness.dataDirectory())
        defer { s.stop() }
        var context: [String: Any] = [:]
        for i in 0..<65 { context["k\(i)"] = "v" }
        let (status, body) = try await s.post("/v1/recommend", ["experiment": "homepage", "user": "u", "context": context])
        #expect(status == 400)
        #expect((body["error"] as? [String: Any])?["field"] as? String == "context")
        let (status2, body2) = try await s.post("/v1/recommend", ["experiment": "homepage", "user": "u", "context": ["page": String(repeating: "x", count: 300)]])
        #expect(status2 == 400)
        #expect((body2["error"] as? [String: Any])?["field"] as? String == "context.page")
    }

    @Test func shutdownAfterLearningLogsNoFalseCheckpointFailure() async throws {
        let s = try await ServerHarness.start(try ServerHarness.dataDirectory())
        let first = try await ServerHarness.recommend(s, user: "qa-online")
        let item = ((first["items"] as! [[String: Any]])[0]["id"] as! String)
        #expect(try await s.post("/v1/feedback", ["request_id": first["request_id"]!, "item": item, "label": 1]).0 == 200)
        try await Task.sleep(for: .milliseconds(400))
        #expect(s.stop() == 0)
        #expect(!s.log.contains("checkpoint failed"), "\(s.log.suffix(2000))")
        #expect(FileManager.default.fileExists(atPath: s.dataDirectory.appendingPathComponent("models/online/CURRENT").path))
    }
}
