/// What a rollback or promote did to a slot, and how long the swap took.
public struct SwapInfo: Codable, Sendable {
    public var slot: String
    public var from: String
    public var to: String
    public var swapSeconds: Double

    enum CodingKeys: String, CodingKey {
        case slot, from, to, swapSeconds = "swap_seconds"
    }

    public init(slot: String, from: String, to: String, swapSeconds: Double) {
        self.slot = slot
        self.from = from
        self.to = to
        self.swapSeconds = swapSeconds
    }
}

/// `POST /v1/admin/models/{slot}/rollback`: to a version, or (no `to`) the previous one.
public struct RollbackRequest: Codable, Sendable {
    public var to: String?
    public init(to: String? = nil) { self.to = to }
}

/// `POST /v1/admin/models/{slot}/promote`.
public struct PromoteRequest: Codable, Sendable {
    public var version: String
    public init(version: String) { self.version = version }
}
