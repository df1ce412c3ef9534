/// `PUT /v1/admin/experiments`: config files applied together (all or none).
public struct ExperimentBatch: Codable, Sendable {
    public struct File: Codable, Sendable {
        /// The file's name (problems are reported against it).
        public var file: String
        public var yaml: String

        public init(file: String, yaml: String) {
            self.file = file
            self.yaml = yaml
        }
    }

    public var configs: [File]
    public init(configs: [File]) { self.configs = configs }
}

/// `POST /v1/admin/experiments/{key}/revert`: to a revision, or (no `to`) the one before the live one.
public struct RevertRequest: Codable, Sendable {
    /// A revision number (from 1); nil: the one before the live one.
    public var to: Int?
    public init(to: Int? = nil) { self.to = to }

    enum CodingKeys: String, CodingKey { case to }

    /// `to` must be an integer from 1 to `Int.max`; anything else is a 400 naming `to` (Foundation
    /// would call a fraction or an overflowing number "not valid JSON").
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let refused = DecodingError.dataCorruptedError(forKey: .to, in: c, debugDescription: "expected a revision number: an integer from 1")
        do {
            to = try c.decodeIfPresent(Int.self, forKey: .to)
        } catch let error as DecodingError {
            throw error
        } catch {
            throw refused
        }
        if let to, to < 1 { throw refused }
    }
}
