/// What an apply or a revert stored: the new revision of each experiment.
public struct AppliedRevisions: Codable, Sendable {
    public struct Item: Codable, Sendable {
        public var key: String
        public var revision: Int
        public init(key: String, revision: Int) {
            self.key = key
            self.revision = revision
        }
    }

    public var applied: [Item]
    public init(applied: [Item]) { self.applied = applied }
}
