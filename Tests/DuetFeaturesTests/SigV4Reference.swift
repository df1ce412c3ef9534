import Crypto
import DuetTestSupport
import Foundation

/// Test-only SigV4 arithmetic, to check what libcurl signed from the server's side: the signing-key
/// derivation, and the signature a server would compute for a request as it arrived. It is not a
/// signer (the product has none: libcurl signs) and handles only what the tests send: header-based
/// SigV4 with a path that is already canonical and at most a query in canonical order.
enum SigV4Reference {
    /// The derived signing key: HMAC-SHA256 chain over day, region, service and "aws4_request".
    static func signingKey(secret: String, day: String, region: String, service: String) -> SymmetricKey {
        func h(_ key: SymmetricKey, _ s: String) -> SymmetricKey {
            SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(s.utf8), using: key)))
        }
        let kDate = h(SymmetricKey(data: Data("AWS4\(secret)".utf8)), day)
        return h(h(h(kDate, region), service), "aws4_request")
    }

    /// The parts of an `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header.
    struct Authorization: Equatable {
        var accessKeyID: String
        var day: String
        var region: String
        var service: String
        var signedHeaders: [String]
        var signature: String

        init?(_ header: String) {
            guard header.hasPrefix("AWS4-HMAC-SHA256 ") else { return nil }
            var fields: [String: String] = [:]
            for part in header.dropFirst("AWS4-HMAC-SHA256 ".count).split(separator: ",") {
                let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if kv.count == 2 { fields[String(kv[0])] = String(kv[1]) }
            }
            let scope = fields["Credential"]?.split(separator: "/").map(String.init) ?? []
            guard scope.count == 5, scope[4] == "aws4_request", let signed = fields["SignedHeaders"], let signature = fields["Signature"] else {
                return nil
            }
            (accessKeyID, day, region, service) = (scope[0], scope[1], scope[2], scope[3])
            signedHeaders = signed.split(separator: ";").map(String.init)
            self.signature = signature
        }
    }

    /// The signature a server computes for `request` as received, with `secret`, from the scope and
    /// signed headers its `Authorization` names; nil when that header is missing or malformed.
    static func expectedSignature(for request: RecordedRequest, secret: String) -> String? {
        guard let auth = request.header("Authorization").flatMap(Authorization.init), let amzDate = request.header("X-Amz-Date") else {
            return nil
        }
        let (path, query) = request.target.firstIndex(of: "?").map {
            (String(request.target[..<$0]), String(request.target[request.target.index(after: $0)...]))
        } ?? (request.target, "")
        let canonicalHeaders = auth.signedHeaders.map { name in
            "\(name):\(request.values(name).map { $0.split(separator: " ").joined(separator: " ") }.joined(separator: ","))\n"
        }.joined()
        let payloadHash = request.header("x-amz-content-sha256") ?? hex(SHA256.hash(data: Data()))
        let canonical = [request.method, path, query, canonicalHeaders, auth.signedHeaders.joined(separator: ";"), payloadHash]
            .joined(separator: "\n")
        let scope = "\(auth.day)/\(auth.region)/\(auth.service)/aws4_request"
        let toSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(hex(SHA256.hash(data: Data(canonical.utf8))))"
        let key = signingKey(secret: secret, day: auth.day, region: auth.region, service: auth.service)
        return hex(HMAC<SHA256>.authenticationCode(for: Data(toSign.utf8), using: key))
    }

    static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
