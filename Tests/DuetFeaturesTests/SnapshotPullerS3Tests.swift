import DuetFeatures
import DuetTestSupport
import Foundation
import Testing

/// `s3://` pulls end to end against a real S3-compatible server on loopback: moto 5.2.1's
/// `moto_server`, with its auth on, so that it recomputes every request's SigV4 signature from the
/// secret its IAM holds for the access key and refuses a mismatch (403 SignatureDoesNotMatch).
/// A missing moto_server fails these tests (MotoServer.start says how to install it).
@Suite(.serialized) struct SnapshotPullerS3Tests {
    static let bucket = "duet-snapshots"

    /// A moto with a bucket holding item_catalog v2 under `item_catalog/v2` and `with space/v2`,
    /// a copy with a corrupted data file under `item_catalog/bad`, and an IAM user allowed
    /// s3:GetObject; auth is on when this returns.
    func world(_ moto: MotoServer) throws -> (setup: MotoSetup, reader: AWSCredentials) {
        let setup = MotoSetup(moto: moto)
        let reader = try setup.createUser("duet-reader", allowing: ["s3:GetObject"])
        try setup.createBucket(Self.bucket)
        try setup.uploadSnapshot(sampleSnapshot("item_catalog", "v2"), bucket: Self.bucket, prefix: "item_catalog/v2")
        try setup.uploadSnapshot(sampleSnapshot("item_catalog", "v2"), bucket: Self.bucket, prefix: "with space/v2")
        let bad = try TestSupport.temporaryDirectory().appendingPathComponent("bad")
        try FileManager.default.copyItem(atPath: sampleSnapshot("item_catalog", "v1"), toPath: bad.path)
        let manifest = try SnapshotManifest.decode(Data(contentsOf: bad.appendingPathComponent("manifest.json")), source: bad.path)
        let dataFile = bad.appendingPathComponent(manifest.data)
        var bytes = try Data(contentsOf: dataFile)
        bytes[100] = bytes[100] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
        try bytes.write(to: dataFile)
        try setup.uploadSnapshot(bad.path, bucket: Self.bucket, prefix: "item_catalog/bad")
        try setup.enableAuth()
        return (setup, reader)
    }

    func puller(_ moto: MotoServer, _ creds: AWSCredentials?) -> SnapshotPuller {
        var env = ["AWS_REGION": "us-east-1"]
        if let creds {
            env["AWS_ACCESS_KEY_ID"] = creds.accessKeyID
            env["AWS_SECRET_ACCESS_KEY"] = creds.secretAccessKey
            env["AWS_SESSION_TOKEN"] = creds.sessionToken
        }
        return SnapshotPuller(s3Endpoint: moto.endpoint, environment: env)
    }

    @Test func theRightCredentialsPullAndVerify() throws {
        // The reader's key pulls the snapshot; SnapshotPuller checks size and SHA-256 against the
        // manifest, then opens it. A key with a space (encoded once, %20, in the signed path) works
        // too, and the corrupted copy is refused after a successful, signed download.
        // (Only a space: moto rebuilds the canonical path from werkzeug's URL, which leaves '+', '='
        // and non-ASCII decoded where S3 encodes them, so such keys fail in moto but not in S3;
        // AWSSigV4Tests checks their encoding on the wire.)
        let moto = try MotoServer.start()
        defer { moto.stop() }
        let (_, reader) = try world(moto)
        let parent = try TestSupport.temporaryDirectory()
        let m = try puller(moto, reader).pull(source: "s3://\(Self.bucket)/item_catalog/v2", out: parent.appendingPathComponent("v2").path)
        #expect(m.set == "item_catalog" && m.version == "v2" && m.rows == 34)
        let original = try Snapshot.open(directory: sampleSnapshot("item_catalog", "v2"))
        #expect(try Snapshot.open(directory: parent.appendingPathComponent("v2").path).manifest == original.manifest)

        let spaced = try puller(moto, reader).pull(source: "s3://\(Self.bucket)/with space/v2/", out: parent.appendingPathComponent("spaced").path)
        #expect(spaced == m)

        #expect { try puller(moto, reader).pull(source: "s3://\(Self.bucket)/item_catalog/bad", out: parent.appendingPathComponent("bad").path) } throws: {
            ($0 as? FeatureError)?.code == .checksumMismatch
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent.path).sorted() == ["spaced", "v2"])
    }

    @Test func aWrongSecretIsRefusedWithHTTP403() throws {
        // Same key id, wrong secret: moto's recomputed signature differs (SignatureDoesNotMatch, 403);
        // an unknown key id (InvalidAccessKeyId) and no credentials at all are 403 too. Nothing is
        // left in the output's parent directory.
        let moto = try MotoServer.start()
        defer { moto.stop() }
        let (_, reader) = try world(moto)
        let parent = try TestSupport.temporaryDirectory()
        let source = "s3://\(Self.bucket)/item_catalog/v2"
        let cases: [(String, AWSCredentials?)] = [
            ("wrong secret", AWSCredentials(accessKeyID: reader.accessKeyID, secretAccessKey: reader.secretAccessKey + "x")),
            ("unknown key id", AWSCredentials(accessKeyID: "AKIAUNKNOWN000000000", secretAccessKey: reader.secretAccessKey)),
            ("no credentials", nil),
        ]
        for (what, creds) in cases {
            do {
                try puller(moto, creds).pull(source: source, out: parent.appendingPathComponent("v2").path)
                Issue.record("\(what): the pull succeeded")
            } catch let e as FeatureError {
                #expect(e.code == .http, "\(what): \(e)")
                #expect(e.message.contains("HTTP 403"), "\(what): \(e)")
                #expect(e.message.contains("\(moto.endpoint)/\(Self.bucket)/item_catalog/v2/manifest.json"), "\(what): \(e)")
            } catch {
                Issue.record("\(what): not a FeatureError: \(error)")
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent.path).isEmpty)
    }

    @Test func sessionTokenCredentialsFromSTS() throws {
        // Temporary credentials from STS AssumeRole: the pull sends and signs x-amz-security-token,
        // which moto checks against the session it issued. A wrong token is refused (moto answers
        // InvalidToken with HTTP 400), as is the right token with a wrong secret (403).
        let moto = try MotoServer.start()
        defer { moto.stop() }
        let setup = MotoSetup(moto: moto)
        let temporary = try setup.assumedRoleCredentials(role: "duet-reader-role", allowing: ["s3:GetObject"])
        #expect(temporary.sessionToken?.isEmpty == false)
        try setup.createBucket(Self.bucket)
        try setup.uploadSnapshot(sampleSnapshot("item_catalog", "v2"), bucket: Self.bucket, prefix: "item_catalog/v2")
        try setup.enableAuth()
        let parent = try TestSupport.temporaryDirectory()
        let source = "s3://\(Self.bucket)/item_catalog/v2"
        let m = try puller(moto, temporary).pull(source: source, out: parent.appendingPathComponent("v2").path)
        #expect(m.version == "v2" && m.rows == 34)

        var wrongToken = temporary
        wrongToken.sessionToken = (temporary.sessionToken ?? "") + "x"
        #expect { try puller(moto, wrongToken).pull(source: source, out: parent.appendingPathComponent("t").path) } throws: {
            "\($0)".contains("HTTP 400")
        }
        var wrongSecret = temporary
        wrongSecret.secretAccessKey += "x"
        #expect { try puller(moto, wrongSecret).pull(source: source, out: parent.appendingPathComponent("s").path) } throws: {
            "\($0)".contains("HTTP 403")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent.path) == ["v2"])
    }
}
