import Foundation

/// Fetches a snapshot (`SOURCE/manifest.json`, then its data file) from a local path, an
/// `http(s)://` URL or `s3://bucket/prefix`, verifies size, SHA-256 and shape, and only then moves
/// it into place: everything is written to a temporary directory beside `out` and renamed at the
/// end, so a failed pull leaves nothing in `out`.
///
///     let m = try SnapshotPuller().pull(source: "https://example.com/snapshots/item_catalog/v2", out: "snap/v2")
public struct SnapshotPuller: Sendable {
    /// S3 endpoint override (S3-compatible stores, e.g. `http://127.0.0.1:9000`); default: AWS (or
    /// `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`). With an override, URLs are path-style.
    public var s3Endpoint: String?
    /// Region for SigV4; default `AWS_REGION`, `AWS_DEFAULT_REGION`, else us-east-1.
    public var region: String?
    /// Credentials; default from the environment. None: unsigned requests (public buckets).
    public var credentials: AWSCredentials?
    public var fetcher = HTTPFetcher()
    public var environment: [String: String]

    public init(s3Endpoint: String? = nil, region: String? = nil, credentials: AWSCredentials? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
        self.s3Endpoint = s3Endpoint ?? environment["AWS_ENDPOINT_URL_S3"] ?? environment["AWS_ENDPOINT_URL"]
        self.region = region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"]
        self.credentials = credentials ?? AWSCredentials.fromEnvironment(environment)
    }

    /// Pulls `source` into the directory `out` (which must not exist or be empty). Returns the manifest.
    @discardableResult
    public func pull(source: String, out: String) throws -> SnapshotManifest {
        let fm = FileManager.default
        let outURL = URL(fileURLWithPath: out).standardizedFileURL
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: outURL.path, isDirectory: &isDir) {
            let empty = isDir.boolValue && ((try? fm.contentsOfDirectory(atPath: outURL.path))?.isEmpty ?? false)
            guard empty else { throw FeatureError(.conflict, "\(out) already exists and is not empty: choose a new --out directory") }
        }
        let parent = outURL.deletingLastPathComponent()
        do { try fm.createDirectory(at: parent, withIntermediateDirectories: true) } catch {
            throw FeatureError(.io, "cannot create \(parent.path)", cause: "\(error)")
        }
        let tmp = parent.appendingPathComponent(".\(outURL.lastPathComponent).partial-\(UUID().uuidString.prefix(8))")
        do { try fm.createDirectory(at: tmp, withIntermediateDirectories: false) } catch {
            throw FeatureError(.io, "cannot create \(tmp.path)", cause: "\(error)")
        }
        do {
            let manifestURL = try location(source, "manifest.json")
            let raw = try fetch(manifestURL, into: nil)
            let manifest = try SnapshotManifest.decode(raw, source: manifestURL)
            let dataURL = try location(source, manifest.data)
            let dataPath = tmp.appendingPathComponent(manifest.data).path
            _ = try fetch(dataURL, into: dataPath)
            guard let data = try? Data(contentsOf: URL(fileURLWithPath: dataPath), options: .alwaysMapped) else {
                throw FeatureError(.io, "cannot read back \(dataPath)")
            }
            try Snapshot.verify(data: data, manifest: manifest, source: dataURL)
            try raw.write(to: tmp.appendingPathComponent("manifest.json"))
            _ = try Snapshot.open(directory: tmp.path)  // header, columns and row count
            if fm.fileExists(atPath: outURL.path) { try fm.removeItem(at: outURL) }
            do { try fm.moveItem(at: tmp, to: outURL) } catch {
                throw FeatureError(.io, "cannot move the snapshot into \(out)", cause: "\(error)")
            }
            return manifest
        } catch {
            try? fm.removeItem(at: tmp)
            throw error
        }
    }

    /// Where `name` lives under `source`: a path or URL string.
    func location(_ source: String, _ name: String) throws -> String {
        let base = source.hasSuffix("/") ? String(source.dropLast()) : source
        if base.hasPrefix("http://") || base.hasPrefix("https://") { return "\(base)/\(name)" }
        if base.hasPrefix("s3://") {
            return try S3Location(base).url(for: name, endpoint: s3Endpoint, region: region ?? "us-east-1")
        }
        if base.contains("://"), !base.hasPrefix("file://") {
            throw FeatureError(.invalidArgument, "\(source): unsupported source (use a path, http(s)://, s3:// or file://)")
        }
        let path = base.hasPrefix("file://") ? String(base.dropFirst("file://".count)) : base
        return (path as NSString).appendingPathComponent(name)
    }

    /// Fetches a location into memory (`into` nil) or a file.
    private func fetch(_ location: String, into path: String?) throws -> Data {
        if location.hasPrefix("http://") || location.hasPrefix("https://") {
            // S3 requests are signed by libcurl (SigV4); S3 also wants the payload's hash in a header.
            var headers: [String: String] = [:]
            var signing: AWSSigV4?
            if isS3(location), let creds = credentials {
                signing = AWSSigV4(credentials: creds, region: region ?? "us-east-1", service: "s3")
                headers["x-amz-content-sha256"] = AWSSigV4.emptyPayloadHash
            }
            if let path {
                try fetcher.download(location, to: path, headers: headers, signing: signing)
                return Data()
            }
            return try fetcher.get(location, headers: headers, signing: signing)
        }
        let fm = FileManager.default
        guard fm.fileExists(atPath: location) else { throw FeatureError(.notFound, "\(location): no such file") }
        if let path {
            do { try fm.copyItem(atPath: location, toPath: path) } catch {
                throw FeatureError(.io, "cannot copy \(location)", cause: "\(error)")
            }
            return Data()
        }
        guard let d = fm.contents(atPath: location) else { throw FeatureError(.io, "cannot read \(location)") }
        return d
    }

    private func isS3(_ location: String) -> Bool {
        if let e = s3Endpoint, !e.isEmpty, location.hasPrefix(e) { return true }
        return location.contains(".amazonaws.com/")
    }
}
