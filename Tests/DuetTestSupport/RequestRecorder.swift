import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A loopback HTTP/1.1 listener that records each request's head (request line and header lines,
/// exactly as received) and answers every request with a fixed status and an empty body. For tests
/// that check what a client sends on the wire.
///
///     let recorder = try RequestRecorder.start(status: 404)
///     defer { recorder.stop() }
///     _ = try? client.get("\(recorder.base)/x")
///     let request = try recorder.waitForRequest()
///     request.header("Authorization")
public final class RequestRecorder: @unchecked Sendable {
    public let port: Int
    public let status: Int
    public var base: String { "http://127.0.0.1:\(port)" }

    private let listener: Int32
    private let lock = NSLock()
    private var recorded: [RecordedRequest] = []
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)

    private init(listener: Int32, port: Int, status: Int) {
        self.listener = listener
        self.port = port
        self.status = status
    }

    /// Listens on 127.0.0.1 on a port the kernel picks (no race) and serves on a background thread.
    public static func start(status: Int = 200) throws -> RequestRecorder {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RecorderError(message: "socket() failed: \(String(cString: strerror(errno)))") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw RecorderError(message: "bind/listen on 127.0.0.1 failed: \(String(cString: strerror(errno)))")
        }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        let recorder = RequestRecorder(listener: fd, port: Int(UInt16(bigEndian: addr.sin_port)), status: status)
        let thread = Thread { recorder.serve() }
        thread.start()
        return recorder
    }

    /// The requests received so far.
    public var requests: [RecordedRequest] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    /// Waits (up to `timeout` seconds) until at least `count` requests came in; returns the first.
    public func waitForRequest(count: Int = 1, timeout: Double = 10) throws -> RecordedRequest {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let got = requests
            if got.count >= count { return got[0] }
            usleep(10_000)
        }
        throw RecorderError(message: "no request reached \(base) within \(timeout) s")
    }

    /// Stops serving and closes the socket.
    public func stop() {
        lock.lock()
        let already = stopping
        stopping = true
        lock.unlock()
        guard !already else { return }
        finished.wait()
        close(listener)
    }

    private var isStopping: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopping
    }

    private func serve() {
        defer { finished.signal() }
        while !isStopping {
            var pfd = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 50) > 0 else { continue }
            let conn = accept(listener, nil, nil)
            guard conn >= 0 else { continue }
            handle(conn)
            close(conn)
        }
    }

    /// Reads one request head (and discards a Content-Length body), records it, answers.
    private func handle(_ conn: Int32) {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        _ = setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let terminator: [UInt8] = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while headEnd == nil {
            let n = buffer.withUnsafeMutableBytes { recv(conn, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return }
            bytes += buffer[0..<n]
            if bytes.count >= 4 {
                headEnd = (0...(bytes.count - 4)).first { bytes[$0..<($0 + 4)].elementsEqual(terminator) }
            }
        }
        guard let end = headEnd else { return }
        let head = String(decoding: bytes[0..<end], as: UTF8.self)
        let request = RecordedRequest(head: head)
        var remaining = (Int(request.header("Content-Length") ?? "0") ?? 0) - (bytes.count - end - 4)
        while remaining > 0 {
            let n = buffer.withUnsafeMutableBytes { recv(conn, $0.baseAddress, min($0.count, remaining), 0) }
            guard n > 0 else { break }
            remaining -= n
        }
        lock.lock()
        recorded.append(request)
        lock.unlock()
        let reply = Array("HTTP/1.1 \(status) Recorded\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
        _ = reply.withUnsafeBytes { send(conn, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}

/// A request head as `RequestRecorder` received it.
public struct RecordedRequest: Sendable, CustomStringConvertible {
    /// `GET`, `PUT`, …
    public var method: String
    /// The request target as sent: path and query, still percent-encoded.
    public var target: String
    /// The header lines in the order received, split at the first `:` (value trimmed).
    public var headers: [Header]

    public struct Header: Sendable, Hashable {
        public var name: String
        public var value: String
    }

    init(head: String) {
        let lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.first?.split(separator: " ") ?? []
        method = requestLine.count > 0 ? String(requestLine[0]) : ""
        target = requestLine.count > 1 ? String(requestLine[1]) : ""
        headers = lines.dropFirst().compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return Header(name: String(line[..<colon]), value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
    }

    /// Every value of the header `name` (case-insensitive), in order.
    public func values(_ name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    /// The first value of the header `name` (case-insensitive).
    public func header(_ name: String) -> String? { values(name).first }

    public var description: String {
        ([method + " " + target] + headers.map { "\($0.name): \($0.value)" }).joined(separator: "\n")
    }
}

public struct RecorderError: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
