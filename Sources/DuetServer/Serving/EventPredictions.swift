import DuetModels

/// One feedback event's features and every model's prediction for them, each model scored once: the
/// guardrail and the per-arm paired log loss both score the same event, often with the same models.
struct EventPredictions {
    let features: [Feature]
    private var byVersion: [ObjectIdentifier: Double] = [:]

    init(features: [Feature]) { self.features = features }

    /// `version`'s predicted probability for the event (computed on first use).
    mutating func predict(_ version: ModelVersion) -> Double {
        if let p = byVersion[ObjectIdentifier(version)] { return p }
        let p = version.predict(features)
        byVersion[ObjectIdentifier(version)] = p
        return p
    }
}
