/// One stored revision of an experiment (`GET /v1/admin/experiments/{key}/history`).
public struct RevisionInfo: Codable, Sendable {
    public var revision: Int
    public var author: String
    /// Seconds since 1970.
    public var createdAt: Double
    public var yaml: String
    /// Set when this revision was made by reverting to an earlier one.
    public var revertedFrom: Int?

    enum CodingKeys: String, CodingKey {
        case revision, author, createdAt = "created_at", yaml, revertedFrom = "reverted_from"
    }

    public init(revision: Int, author: String, createdAt: Double, yaml: String, revertedFrom: Int?) {
        self.revision = revision
        self.author = author
        self.createdAt = createdAt
        self.yaml = yaml
        self.revertedFrom = revertedFrom
    }
}

/// `GET /v1/admin/experiments/{key}/history`.
public struct RevisionList: Codable, Sendable {
    public var revisions: [RevisionInfo]
    public init(revisions: [RevisionInfo]) { self.revisions = revisions }
}
