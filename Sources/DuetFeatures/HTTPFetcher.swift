import CCurl
import Foundation

/// Blocking HTTP(S) GETs over libcurl, into memory or a file. For the CLI (`features pull`), never
/// the request path.
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
        try perform(url, headers: headers, sink: sink)
        return sink.data
    }

    /// GETs `url` into the file at `path` (created or truncated); returns the bytes written.
    @discardableResult
    public func download(_ url: String, to path: String, headers: [String: String] = [:]) throws -> Int {
        guard let f = fopen(path, "wb") else { throw FeatureError(.io, "cannot create \(path)", cause: String(cString: strerror(errno))) }
        let sink = Sink(file: f, limit: Int.max)
        defer { fclose(f) }
        try perform(url, headers: headers, sink: sink)
        guard fflush(f) == 0 else { throw FeatureError(.io, "cannot write \(path)", cause: String(cString: strerror(errno))) }
        return sink.written
    }

    private func perform(_ url: String, headers: [String: String], sink: Sink) throws {
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
        if rc == CURLE_OK { rc = duet_curl_setopt_string(h, CURLOPT_USERAGENT, "duet-features/1") }
        if rc == CURLE_OK, let list { rc = duet_curl_setopt_slist(h, CURLOPT_HTTPHEADER, list) }
        if rc == CURLE_OK { rc = duet_curl_setopt_write_function(h, callback) }
        if rc == CURLE_OK { rc = duet_curl_setopt_pointer(h, CURLOPT_WRITEDATA, opaque) }
        guard rc == CURLE_OK else { throw FeatureError(.http, "GET \(url): cannot configure libcurl", cause: String(cString: curl_easy_strerror(rc))) }

        let result = withExtendedLifetime(sink) { curl_easy_perform(h) }
        var status = 0
        _ = duet_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        if status >= 400 {
            throw FeatureError(.http, "GET \(url) failed: HTTP \(status)\(status == 404 ? " (not found)" : status == 403 ? " (forbidden)" : "")")
        }
        if sink.overflow { throw FeatureError(.http, "GET \(url): response larger than \(sink.limit) bytes") }
        guard result == CURLE_OK else {
            throw FeatureError(.http, "GET \(url) failed", cause: String(cString: curl_easy_strerror(result)))
        }
        if url.hasPrefix("http"), status < 200 || status >= 300 {
            throw FeatureError(.http, "GET \(url) failed: HTTP \(status)")
        }
    }
}
