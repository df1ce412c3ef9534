import DuetFeatures
import Foundation
import Testing

/// Against the examples AWS publishes in its SigV4 documentation.
@Suite struct AWSSigV4SignerTests {
    static let date = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z

    @Test func iamExampleFromTheAWSDocs() throws {
        // "Signature Version 4 signing process" example: GET https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08
        let creds = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
        let signer = AWSSigV4Signer(credentials: creds, region: "us-east-1", service: "iam")
        let url = URL(string: "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08")!
        let headers = signer.sign(
            method: "GET", url: url, headers: ["Content-Type": "application/x-www-form-urlencoded; charset=utf-8"],
            payloadHash: AWSSigV4Signer.emptyPayloadHash, date: Self.date)
        let canonical = signer.canonicalRequest(
            method: "GET", url: url,
            headers: ["content-type": "application/x-www-form-urlencoded; charset=utf-8", "host": "iam.amazonaws.com", "x-amz-date": "20150830T123600Z"],
            payloadHash: AWSSigV4Signer.emptyPayloadHash)
        #expect(canonical == """
            GET
            /
            Action=ListUsers&Version=2010-05-08
            content-type:application/x-www-form-urlencoded; charset=utf-8
            host:iam.amazonaws.com
            x-amz-date:20150830T123600Z

            content-type;host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        let key = AWSSigV4Signer.signingKey(secret: creds.secretAccessKey, day: "20150830", region: "us-east-1", service: "iam")
        #expect(key.withUnsafeBytes { Data($0) }.map { String(format: "%02x", $0) }.joined()
            == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9")
        #expect(headers["x-amz-date"] == "20150830T123600Z")
        #expect(headers["authorization"] == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
    }

    @Test func s3GetObjectExampleFromTheAWSDocs() throws {
        // S3 "Authenticating Requests: Using the Authorization Header" example: GET /test.txt with a Range header.
        let creds = AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        let signer = AWSSigV4Signer(credentials: creds, region: "us-east-1", service: "s3")
        let headers = signer.sign(
            method: "GET", url: URL(string: "https://examplebucket.s3.amazonaws.com/test.txt")!,
            headers: ["Range": "bytes=0-9", "x-amz-content-sha256": AWSSigV4Signer.emptyPayloadHash],
            payloadHash: AWSSigV4Signer.emptyPayloadHash, date: Date(timeIntervalSince1970: 1_369_353_600))  // 2013-05-24T00:00:00Z
        #expect(headers["authorization"] == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func sessionTokenIsSigned() {
        let creds = AWSCredentials(accessKeyID: "A", secretAccessKey: "S", sessionToken: "TOKEN")
        let h = AWSSigV4Signer(credentials: creds, region: "eu-west-1").sign(
            method: "GET", url: URL(string: "http://127.0.0.1:9000/b/k%20x.csv")!, headers: [:], payloadHash: AWSSigV4Signer.emptyPayloadHash, date: Self.date)
        #expect(h["x-amz-security-token"] == "TOKEN")
        #expect(h["host"] == "127.0.0.1:9000")
        #expect(h["authorization"]?.contains("SignedHeaders=host;x-amz-date;x-amz-security-token") == true)
    }
}
