/// AWS Signature Version 4 for one request, done by libcurl (`CURLOPT_AWS_SIGV4`): pass it to
/// `HTTPFetcher` as `signing:`.
///
/// libcurl signs with the access key and secret (`CURLOPT_USERNAME` / `CURLOPT_PASSWORD`) under the
/// scope `DAY/region/service/aws4_request`; it adds `x-amz-date` and `Authorization` and signs `host`
/// plus every header the caller passes. A session token is sent (and so signed) as
/// `x-amz-security-token`. libcurl (7.88) takes the URL's path and query as they are: give it an
/// already encoded path (see `S3Location`) and, if there is a query, one in canonical order.
///
///     let signing = AWSSigV4(credentials: creds, region: "eu-west-1", service: "s3")
///     let data = try HTTPFetcher().get(url, headers: ["x-amz-content-sha256": AWSSigV4.emptyPayloadHash], signing: signing)
public struct AWSSigV4: Sendable, Hashable {
    public var credentials: AWSCredentials
    public var region: String
    public var service: String

    /// SHA-256 of an empty body: the `x-amz-content-sha256` of a GET (S3 wants that header).
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// `CURLOPT_AWS_SIGV4`'s parameter, `aws:amz:REGION:SERVICE`, after checking that region and
    /// service are plain names (libcurl splits at `:` and stops at 64 characters) and that no
    /// credential holds a character that would cut a C string or a header line.
    func curlParameter() throws -> String {
        for (what, value) in [("region", region), ("service", service)] {
            let plain = value.utf8.allSatisfy { b in
                (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
                    || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
                    || b == UInt8(ascii: ".")
            }
            guard plain, !value.isEmpty, value.utf8.count <= 64 else {
                throw FeatureError(.invalidArgument, "AWS \(what) \"\(value)\": expected a name of letters, digits, '-', '_' or '.' (at most 64)")
            }
        }
        let fields = [("access key id", credentials.accessKeyID), ("secret access key", credentials.secretAccessKey),
                      ("session token", credentials.sessionToken ?? "")]
        for (what, value) in fields where value.utf8.contains(where: { $0 == 0 || $0 == 10 || $0 == 13 }) {
            throw FeatureError(.invalidArgument, "AWS \(what) holds a NUL or line break")
        }
        return "aws:amz:\(region):\(service)"
    }

    /// Headers libcurl does not add itself: `x-amz-security-token` with a session token.
    var extraHeaders: [String: String] {
        credentials.sessionToken.map { ["x-amz-security-token": $0] } ?? [:]
    }
}
