import DuetEvaluation

/// The live off-policy estimates of one arm's policy value (click rate of the first shown item)
/// from the traffic another arm (or the arm itself) logged: IPS, SNIPS and DR with the target
/// arm's own model as the reward model. Streaming and mergeable, saved with the experiment counts.
///
/// Counts one event per impression whose first item received feedback (a 0 for "shown, not
/// clicked" must be sent for the estimate to be unbiased: impressions without feedback are not
/// counted). Assumes what `IPSEstimator` assumes; the propensities are exact (Duet drew the choice).
struct PolicyValue: Sendable, Equatable, Codable {
    var ips = IPSEstimator()
    var snips = SNIPSEstimator()
    var dr = DREstimator()

    var count: Int { ips.count }

    mutating func add(_ event: LoggedEvent) {
        ips.add(event)
        snips.add(event)
        dr.add(event)
    }

    mutating func merge(_ other: PolicyValue) {
        ips.merge(other.ips)
        snips.merge(other.snips)
        dr.merge(other.dr)
    }
}
