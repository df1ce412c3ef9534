import CCurl
import Foundation

/// Blocking HTTP(S) requests over libcurl, into memory or a file. For the CLI (`features pull`, the
/// admin commands), never the request path.
public struct HTTPFetcher: Sendable {
    /// Seconds to wait for a connection.
    public var connectTimeout = 10
    /// Abort when slower than 1 byte/s for this many seconds.
    public var stallTimeout = 30

    public init() {}

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    final class Sink {
        var data = Data()
        var file: UnsafeMutablePointer<FILE>?
        var limit: Int
        var written = 0
        var overflow = false
        init(file: UnsafeMutablePointer<FILE>?, limit: Int) {
            self.file = file
            self.limit = limit
        }
    }

    /// GETs `url` into memory (at most `limit` bytes). Throws for transport errors and HTTP status ≥ 400.
    public func get(_ url: String, headers: [String: String] = [:], limit: Int = 16 << 20) throws -> Data {
        let sink = Sink(file: nil, limit: limit)
        try Self.check(url, status: try perform("GET", url, headers: headers, body: nil, sink: sink), sink: sink)
        return sink.data
    }

    /// Any method, with an optional body; returns the status and body whatever the status (the caller
    /// reads error bodies). Throws for transport errors and bodies over `limit`.
    public func request(
        _ method: String, _ url: String, headers: [String: String] = [:], body: Data? = nil, limit: Int = 16 << 20
    ) throws -> (status: Int, body: Data) {
        let sink = Sink(file: nil, limit: limit)
        let status = try perform(method, url, headers: headers, body: body, sink: sink)
        if sink.overflow { throw FeatureError(.http, "\(method) \(url): response larger than \(sink.limit) bytes") }
        return (status, sink.data)
    }

    /// GETs `url` into the file at `path` (created or truncated); returns the bytes written.
    @discardableResult
    public func download(_ url: String, to path: String, headers: [String: String] = [:]) throws -> Int {
        guard let f = fopen(path, "wb") else { throw FeatureError(.io, "cannot create \(path)", cause: String(cString: strerror(errno))) }
        let sink = Sink(file: f, limit: Int.max)
        defer { fclose(f) }
        try Self.check(url, status: try perform("GET", url, headers: headers, body: nil, sink: sink), sink: sink)
        guard fflush(f) == 0 else { throw FeatureError(.io, "cannot write \(path)", cause: String(cString: strerror(errno))) }
        return sink.written
    }

    /// A GET's outcome: HTTP status ≥ 400 (or not 2xx for http URLs) and overflows are errors.
    private static func check(_ url: String, status: Int, sink: Sink) throws {
        if status >= 400 {
            throw FeatureError(.http, "GET \(url) failed: HTTP \(status)\(status == 404 ? " (not found)" : status == 403 ? " (forbidden)" : "")")
        }
        if sink.overflow { throw FeatureError(.http, "GET \(url): response larger than \(sink.limit) bytes") }
        if url.hasPrefix("http"), status < 200 || status >= 300 {
            throw FeatureError(.http, "GET \(url) failed: HTTP \(status)")
        }
    }

    /// Runs one request; returns the HTTP status. Throws for transport errors (not for an overflow,
    /// which the caller reads from `sink`).
    private func perform(_ method: String, _ url: String, headers: [String: String], body: Data?, sink: Sink) throws -> Int {
        _ = Self.globalInit
        guard let h = curl_easy_init() else { throw FeatureError(.http, "cannot initialise libcurl") }
        defer { curl_easy_cleanup(h) }
        var list: UnsafeMutablePointer<curl_slist>? = nil
        for (k, v) in headers.sorted(by: { $0.key < $1.key }) { list = curl_slist_append(list, "\(k): \(v)") }
        defer { if let list { curl_slist_free_all(list) } }

        let callback: duet_curl_write_callback = { ptr, size, nmemb, userdata in
            guard let ptr, let userdata else { return 0 }
            let sink = Unmanaged<Sink>.fromOpaque(userdata).takeUnretainedValue()
            let n = size * nmemb
            if let f = sink.file {
                let w = fwrite(ptr, 1, n, f)
                sink.written += w
                return w
            }
            if sink.data.count + n > sink.limit { sink.overflow = true; return 0 }
            ptr.withMemoryRebound(to: UInt8.self, capacity: n) { sink.data.append($0, count: n) }
            sink.written += n
            return n
        }
        let opaque = Unmanaged.passUnretained(sink).toOpaque()
        var rc = duet_curl_setopt_string(h, CURLOPT_URL, url)
        if rc == CURLE_OK { rc = duet_curl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 1) }
        if rc == CURLE_OK { rc = duet_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1) }
        if rc == CURLE_OK { rc = duet_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT, connectTimeout) }
        if rc == CURLE_OK { rc = duet_curl_setopt_long(h, CURLOPT_LOW_SPEED_LIMIT, 1) }
        if rc == CURLE_OK { rc = duet_curl_setopt_long(h, CURLOPT_LOW_SPEED_TIME, stallTimeout) }
        if rc == CURLE_OK { rc = duet_curl_setopt_string(h, CURLOPT_USERAGENT, "duet/1") }
        if rc == CURLE_OK, let list { rc = duet_curl_setopt_slist(h, CURLOPT_HTTPHEADER, list) }
        if rc == CURLE_OK { rc = duet_curl_setopt_write_function(h, callback) }
        if rc == CURLE_OK { rc = duet_curl_setopt_pointer(h, CURLOPT_WRITEDATA, opaque) }
        if rc == CURLE_OK, method != "GET" { rc = duet_curl_setopt_string(h, CURLOPT_CUSTOMREQUEST, method) }
        // A body for every method but GET (an empty one still gets Content-Length: 0).
        let payload: [UInt8]? = body.map { [UInt8]($0) } ?? (method == "GET" ? nil : [])
        guard rc == CURLE_OK else { throw FeatureError(.http, "\(method) \(url): cannot configure libcurl", cause: String(cString: curl_easy_strerror(rc))) }

        let result: CURLcode = withExtendedLifetime(sink) {
            guard let payload else { return curl_easy_perform(h) }
            let size = payload.count
            return (payload.isEmpty ? [0] : payload).withUnsafeBytes { raw in
                var rc = duet_curl_setopt_long(h, CURLOPT_POSTFIELDSIZE, size)
                if rc == CURLE_OK { rc = duet_curl_setopt_pointer(h, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress)) }
                return rc == CURLE_OK ? curl_easy_perform(h) : rc
            }
        }
        var status = 0
        _ = duet_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        guard result == CURLE_OK || sink.overflow else {
            throw FeatureError(.http, "\(method) \(url) failed", cause: String(cString: curl_easy_strerror(result)))
        }
        return status
    }
}
