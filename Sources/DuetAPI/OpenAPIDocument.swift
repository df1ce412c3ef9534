/// The HTTP API as an OpenAPI 3.1 document (`openapi.json`, a resource of this module embedded in the
/// binary), served at `GET /openapi.json` and printed by `duet openapi`. `DuetAPITests` encode every
/// request and response type and validate them against it; `DuetServerTests` check that every
/// registered route is described here.
public enum OpenAPIDocument {
    /// The document's bytes, as written in `Sources/DuetAPI/openapi.json`.
    public static let bytes: [UInt8] = PackageResources.openapi_json

    /// The document as text.
    public static var json: String { String(decoding: bytes, as: UTF8.self) }
}
