import Crypto
import DuetFeatures
import DuetTestSupport
import Foundation

/// Sets up a `MotoServer` through its AWS APIs (IAM and STS query APIs, S3 REST) with `HTTPFetcher`.
///
/// Setup runs before `enableAuth()`, while moto checks no signature; its requests are still signed
/// (by libcurl, with made-up credentials) because moto routes IAM and STS requests by the service
/// named in the signature's scope.
struct MotoSetup {
    let moto: MotoServer
    let fetcher = HTTPFetcher()
    private static let setupCredentials = AWSCredentials(accessKeyID: "AKIASETUPONLY0000000", secretAccessKey: "not-checked-during-setup")

    /// A new IAM user allowed `actions` (e.g. `s3:GetObject`) on every resource, and an access key of it.
    func createUser(_ name: String, allowing actions: [String]) throws -> AWSCredentials {
        try query("iam", ["Action": "CreateUser", "UserName": name, "Version": "2010-05-08"])
        try query("iam", ["Action": "PutUserPolicy", "UserName": name, "PolicyName": "\(name)-policy",
                          "PolicyDocument": Self.policy(allowing: actions), "Version": "2010-05-08"])
        let xml = try query("iam", ["Action": "CreateAccessKey", "UserName": name, "Version": "2010-05-08"])
        return AWSCredentials(accessKeyID: try Self.element("AccessKeyId", in: xml), secretAccessKey: try Self.element("SecretAccessKey", in: xml))
    }

    /// Temporary credentials (key, secret and session token) from STS AssumeRole, for a new role allowed `actions`.
    func assumedRoleCredentials(role: String, allowing actions: [String]) throws -> AWSCredentials {
        let trust = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#
        let created = try query("iam", ["Action": "CreateRole", "RoleName": role, "AssumeRolePolicyDocument": trust, "Version": "2010-05-08"])
        try query("iam", ["Action": "PutRolePolicy", "RoleName": role, "PolicyName": "\(role)-policy",
                          "PolicyDocument": Self.policy(allowing: actions), "Version": "2010-05-08"])
        let xml = try query("sts", ["Action": "AssumeRole", "RoleArn": try Self.element("Arn", in: created), "RoleSessionName": "duet-test",
                                    "Version": "2011-06-15"])
        return AWSCredentials(accessKeyID: try Self.element("AccessKeyId", in: xml), secretAccessKey: try Self.element("SecretAccessKey", in: xml),
                              sessionToken: try Self.element("SessionToken", in: xml))
    }

    func createBucket(_ bucket: String) throws {
        try s3("PUT", "/\(bucket)", body: Data())
    }

    /// Uploads every file of the snapshot directory `directory` under `bucket/prefix/`.
    func uploadSnapshot(_ directory: String, bucket: String, prefix: String) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() {
            let data = try Data(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent(name))
            let key = (prefix + "/" + name).split(separator: "/").map { Self.encode(String($0)) }.joined(separator: "/")
            try s3("PUT", "/\(bucket)/\(key)", body: data)
        }
    }

    /// Turns moto's auth on: from now on every action must be signed by a key its IAM knows (POST
    /// `0` to /moto-api/reset-auth, which sets INITIAL_NO_AUTH_ACTION_COUNT to 0).
    func enableAuth() throws {
        let (status, body) = try fetcher.request("POST", "\(moto.endpoint)/moto-api/reset-auth", headers: ["Content-Type": "text/plain"], body: Data("0".utf8))
        let text = String(decoding: body, as: UTF8.self)
        guard status == 200, text.contains("\"ok\"") else { throw MotoServerError(message: "reset-auth: HTTP \(status): \(text)") }
    }

    // MARK: - Requests

    private func signing(_ service: String) -> AWSSigV4 {
        AWSSigV4(credentials: Self.setupCredentials, region: "us-east-1", service: service)
    }

    /// A query-API call (form POST); returns the XML response, throws on any status but 200.
    @discardableResult
    private func query(_ service: String, _ params: [String: String]) throws -> String {
        let form = params.sorted { $0.key < $1.key }.map { "\(Self.encode($0.key))=\(Self.encode($0.value))" }.joined(separator: "&")
        let (status, body) = try fetcher.request("POST", "\(moto.endpoint)/", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                                 body: Data(form.utf8), signing: signing(service))
        let text = String(decoding: body, as: UTF8.self)
        guard status == 200 else { throw MotoServerError(message: "\(service) \(params["Action"] ?? ""): HTTP \(status): \(text)") }
        return text
    }

    private func s3(_ method: String, _ path: String, body: Data) throws {
        let hash = SigV4Reference.hex(SHA256.hash(data: body))
        let (status, response) = try fetcher.request(method, "\(moto.endpoint)\(path)",
                                                     headers: ["Content-Type": "application/octet-stream", "x-amz-content-sha256": hash],
                                                     body: body, signing: signing("s3"))
        guard status == 200 else { throw MotoServerError(message: "s3 \(method) \(path): HTTP \(status): \(String(decoding: response, as: UTF8.self))") }
    }

    private static func policy(allowing actions: [String]) -> String {
        let list = actions.map { "\"\($0)\"" }.joined(separator: ",")
        return #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["#  + list + #"],"Resource":"*"}]}"#
    }

    /// Percent-encodes all but RFC 3986's unreserved characters.
    static func encode(_ s: String) -> String {
        var allowed = CharacterSet()
        allowed.insert(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    /// The text of the first `<name>…</name>` in `xml`.
    private static func element(_ name: String, in xml: String) throws -> String {
        guard let open = xml.range(of: "<\(name)>"), let close = xml.range(of: "</\(name)>", range: open.upperBound..<xml.endIndex) else {
            throw MotoServerError(message: "no <\(name)> in \(xml.prefix(500))")
        }
        return String(xml[open.upperBound..<close.lowerBound])
    }
}
