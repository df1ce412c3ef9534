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
    public var to: Int?
    public init(to: Int? = nil) { self.to = to }
}
