import Crypto
import Foundation

/// Signs HTTP requests with AWS Signature Version 4 (header-based), as S3 and S3-compatible stores expect.
///
///     let signer = AWSSigV4Signer(credentials: creds, region: "eu-west-1", service: "s3")
///     let headers = signer.sign(method: "GET", url: url, headers: [:], payloadHash: AWSSigV4Signer.emptyPayloadHash)
public struct AWSSigV4Signer: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    public var service: String

    /// SHA-256 of an empty body.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The headers to send: the given ones plus `host`, `x-amz-date`, `x-amz-security-token` (with a
    /// session token) and `Authorization`. Every header given is signed.
    public func sign(method: String, url: URL, headers: [String: String], payloadHash: String, date: Date = Date()) -> [String: String] {
        let (amzDate, day) = Self.timestamps(date)
        var all: [String: String] = [:]
        for (k, v) in headers { all[k.lowercased()] = v }
        if all["host"] == nil, let host = url.host {
            all["host"] = url.port.map { "\(host):\($0)" } ?? host
        }
        all["x-amz-date"] = amzDate
        if let token = credentials.sessionToken { all["x-amz-security-token"] = token }
        let canonical = canonicalRequest(method: method, url: url, headers: all, payloadHash: payloadHash)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let toSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(Self.hex(SHA256.hash(data: Data(canonical.utf8))))"
        let key = Self.signingKey(secret: credentials.secretAccessKey, day: day, region: region, service: service)
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(toSign.utf8), using: key))
        let signed = all.keys.sorted().joined(separator: ";")
        all["authorization"] = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signed), Signature=\(signature)"
        return all
    }

    /// The canonical request (step 1 of SigV4). `headers` must have lowercase names.
    public func canonicalRequest(method: String, url: URL, headers: [String: String], payloadHash: String) -> String {
        let comps = URLComponents(url: url, resolvingAgainstBaseURL: false)
        var path = comps?.percentEncodedPath ?? "/"
        if path.isEmpty { path = "/" }
        // Decode then encode each segment once (S3 style: no double encoding).
        let canonicalPath = path.split(separator: "/", omittingEmptySubsequences: false)
            .map { Self.uriEncode(String($0).removingPercentEncoding ?? String($0)) }.joined(separator: "/")
        var pairs: [(String, String)] = []
        for item in comps?.percentEncodedQueryItems ?? [] {
            let name = item.name.removingPercentEncoding ?? item.name
            let value = (item.value ?? "").removingPercentEncoding ?? ""
            pairs.append((Self.uriEncode(name), Self.uriEncode(value)))
        }
        pairs.sort { a, b in a.0 == b.0 ? a.1 < b.1 : a.0 < b.0 }
        let query = pairs.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        let names = headers.keys.sorted()
        let canonicalHeaders = names.map { n in
            let v = headers[n]!.trimmingCharacters(in: .whitespaces).split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            return "\(n):\(v)\n"
        }.joined()
        return [method, canonicalPath, query, canonicalHeaders, names.joined(separator: ";"), payloadHash].joined(separator: "\n")
    }

    /// The derived signing key: HMAC chain over day, region, service and "aws4_request".
    public static func signingKey(secret: String, day: String, region: String, service: String) -> SymmetricKey {
        func h(_ key: SymmetricKey, _ s: String) -> SymmetricKey {
            SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(s.utf8), using: key)))
        }
        let kDate = h(SymmetricKey(data: Data("AWS4\(secret)".utf8)), day)
        return h(h(h(kDate, region), service), "aws4_request")
    }

    /// `yyyyMMdd'T'HHmmss'Z'` and `yyyyMMdd` in UTC.
    static func timestamps(_ date: Date) -> (String, String) {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let c = cal.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let day = String(format: "%04d%02d%02d", c.year!, c.month!, c.day!)
        return (day + String(format: "T%02d%02d%02dZ", c.hour!, c.minute!, c.second!), day)
    }

    /// RFC 3986 encoding as SigV4 wants it: unreserved characters kept, everything else `%XX` (uppercase).
    static func uriEncode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                out += String(format: "%%%02X", b)
            }
        }
        return out
    }

    static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
