import DuetModels

/// What prepared features are valid for: one feature set at one version, hashed for one model
/// shape. Feature versions are immutable, so what is prepared for a generation never goes stale.
struct PreparedGeneration: Hashable, Sendable {
    var set: String
    var version: String
    var bits: Int
    var interactions: [[String]]

    init(set: String, version: String, config: ModelConfig) {
        self.set = set
        self.version = version
        self.bits = config.bits
        self.interactions = config.interactions
    }
}
