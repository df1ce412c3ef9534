import CCurl
import Foundation

/// Blocking HTTP(S) requests over libcurl, into memory or a file. For the CLI (`features pull`, the
/// admin commands), never the request path. Every method takes an optional `signing:` to have
/// libcurl sign the request with AWS SigV4 (S3 and S3-compatible stores).
public struct HTTPFetcher: Sendable {
    /// Seconds to wait for a connection.
    public var connectTimeout = 10
    /// Abort when slower than 1 byte/s for this many seconds.
    public var stallTimeout = 30

    public init() {}

    private static let globalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

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
    public func get(_ url: String, headers: [String: String] = [:], limit: Int = 16 << 20, signing: AWSSigV4? = nil) throws -> Data {
        let sink = Sink(file: nil, limit: limit)
        try Self.check(url, status: try perform("GET", url, headers: headers, body: nil, signing: signing, sink: sink), sink: sink)
        return sink.data
    }

    /// Any method, with an optional body; returns the status and body whatever the status (the caller
    /// reads error bodies). Throws for transport errors and bodies over `limit`.
    public func request(
        _ method: String, _ url: String, headers: [String: String] = [:], body: Data? = nil, limit: Int = 16 << 20,
        signing: AWSSigV4? = nil
    ) throws -> (status: Int, body: Data) {
        let sink = Sink(file: nil, limit: limit)
        let status = try perform(method, url, headers: headers, body: body, signing: signing, sink: sink)
        if sink.overflow { throw FeatureError(.http, "\(method) \(url): response larger than \(sink.limit) bytes") }
        return (status, sink.data)
    }

    /// GETs `url` into the file at `path` (created or truncated); returns the bytes written.
    @discardableResult
    public func download(_ url: String, to path: String, headers: [String: String] = [:], signing: AWSSigV4? = nil) throws -> Int {
        guard let f = fopen(path, "wb") else { throw FeatureError(.io, "cannot create \(path)", cause: String(cString: strerror(errno))) }
        let sink = Sink(file: f, limit: Int.max)
        defer { fclose(f) }
        try Self.check(url, status: try perform("GET", url, headers: headers, body: nil, signing: signing, sink: sink), sink: sink)
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
    private func perform(_ method: String, _ url: String, headers: [String: String], body: Data?, signing: AWSSigV4?, sink: Sink) throws -> Int {
        guard Self.globalInit == CURLE_OK else {
            throw FeatureError(.http, "cannot initialise libcurl", cause: String(cString: curl_easy_strerror(Self.globalInit)))
        }
        let sigv4 = try signing?.curlParameter()
        var headers = headers
        for (k, v) in signing?.extraHeaders ?? [:] {
            headers = headers.filter { $0.key.lowercased() != k }
            headers[k] = v
        }
        guard let h = curl_easy_init() else { throw FeatureError(.http, "cannot initialise libcurl") }
        defer { curl_easy_cleanup(h) }
        var list: UnsafeMutablePointer<curl_slist>? = nil
        defer { if let list { curl_slist_free_all(list) } }
        for (k, v) in headers.sorted(by: { $0.key < $1.key }) {
            guard let appended = curl_slist_append(list, "\(k): \(v)") else {
                throw FeatureError(.http, "\(method) \(url): cannot add the header \(k) (out of memory)")
            }
            list = appended
        }

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
        // SigV4 by libcurl: it adds x-amz-date and Authorization, signing Host and every header above.
        if rc == CURLE_OK, let sigv4, let signing {
            rc = duet_curl_setopt_string(h, CURLOPT_AWS_SIGV4, sigv4)
            if rc == CURLE_OK { rc = duet_curl_setopt_string(h, CURLOPT_USERNAME, signing.credentials.accessKeyID) }
            if rc == CURLE_OK { rc = duet_curl_setopt_string(h, CURLOPT_PASSWORD, signing.credentials.secretAccessKey) }
        }
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
        guard result == CURLE_OK || sink.overflow else {
            throw FeatureError(.http, "\(method) \(url) failed", cause: String(cString: curl_easy_strerror(result)))
        }
        var status = 0
        let info = duet_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        guard info == CURLE_OK else {
            throw FeatureError(.http, "\(method) \(url): no HTTP status", cause: String(cString: curl_easy_strerror(info)))
        }
        return status
    }
}
