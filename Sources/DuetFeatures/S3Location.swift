/// An `s3://bucket/prefix` source and the HTTP(S) URLs of the objects under it.
///
///     let s3 = try S3Location("s3://snapshots/item_catalog/v2")
///     s3.url(for: "manifest.json", endpoint: nil, region: "eu-west-1")
///     // https://snapshots.s3.eu-west-1.amazonaws.com/item_catalog/v2/manifest.json
struct S3Location: Sendable, Hashable {
    var bucket: String
    /// Empty, or the key prefix ending in `/`.
    var prefix: String

    /// Parses `s3://bucket[/prefix]` (a trailing `/` is ignored).
    init(_ source: String) throws {
        guard source.hasPrefix("s3://") else { throw FeatureError(.invalidArgument, "\(source): expected s3://bucket/prefix") }
        let rest = source.dropFirst("s3://".count)
        let parts = rest.split(separator: "/", maxSplits: 1)
        guard let bucket = parts.first, !bucket.isEmpty, !rest.hasPrefix("/") else {
            throw FeatureError(.invalidArgument, "\(source): expected s3://bucket/prefix")
        }
        self.bucket = String(bucket)
        var prefix = parts.count > 1 ? String(parts[1]) : ""
        while prefix.hasSuffix("/") { prefix.removeLast() }
        self.prefix = prefix.isEmpty ? "" : prefix + "/"
    }

    /// The URL of the object `prefix + name`: path-style under `endpoint` (an S3-compatible store),
    /// else AWS's virtual-hosted style. Each key segment is encoded once, as SigV4's canonical URI
    /// for S3 wants it, so the URL's path is already the canonical one that libcurl signs.
    func url(for name: String, endpoint: String?, region: String) -> String {
        let key = (prefix + name).split(separator: "/").map { Self.uriEncode(String($0)) }.joined(separator: "/")
        if let endpoint, !endpoint.isEmpty {
            let e = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
            return "\(e)/\(bucket)/\(key)"
        }
        return "https://\(bucket).s3.\(region).amazonaws.com/\(key)"
    }

    /// RFC 3986 encoding as SigV4 wants it: unreserved characters kept, every other byte `%XX` (uppercase).
    static func uriEncode(_ s: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(b)
            default:
                out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
