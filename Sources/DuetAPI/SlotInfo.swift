/// A model slot and the versions it keeps in memory, newest first (`GET /v1/admin/models[/{slot}]`).
public struct SlotInfo: Codable, Sendable {
    public struct Version: Codable, Sendable {
        public var id: String
        public var parentID: String?
        public var kind: String
        public var createdAt: Double
        public var examples: Int
        public var logloss: Double?
        public var auc: Double?
        public var current: Bool
        /// Marked healthy by the guardrail (a whole block of feedback found it no worse than the static model).
        public var healthy: Bool?
        /// Why it is kept beyond the newest versions: `pinned`, `healthy`, `history` (the thinned
        /// history); nil when it is one of the newest.
        public var keptFor: [String]?

        enum CodingKeys: String, CodingKey {
            case id, parentID = "parent_id", kind, createdAt = "created_at", examples, logloss, auc, current, healthy, keptFor = "kept_for"
        }

        public init(
            id: String, parentID: String?, kind: String, createdAt: Double, examples: Int, logloss: Double?, auc: Double?, current: Bool,
            healthy: Bool? = nil, keptFor: [String]? = nil
        ) {
            self.healthy = healthy
            self.keptFor = keptFor
            self.id = id
            self.parentID = parentID
            self.kind = kind
            self.createdAt = createdAt
            self.examples = examples
            self.logloss = logloss
            self.auc = auc
            self.current = current
        }
    }

    public var slot: String
    public var current: String?
    public var versions: [Version]

    public init(slot: String, current: String?, versions: [Version]) {
        self.slot = slot
        self.current = current
        self.versions = versions
    }
}

/// `GET /v1/admin/models`.
public struct SlotList: Codable, Sendable {
    public var slots: [SlotInfo]
    public init(slots: [SlotInfo]) { self.slots = slots }
}
