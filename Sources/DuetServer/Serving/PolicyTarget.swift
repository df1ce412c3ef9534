/// What one arm's policy would have done on a request, as the off-policy estimators need it for
/// the first shown item a (the one whose propensity is a marginal probability): computed when the
/// request is served, with that arm's current model scoring the same candidates and features.
///
/// For the arm that served the request these describe its own policy (π_t = the logging policy).
struct PolicyTarget: Sendable {
    /// The arm's index in its experiment.
    var arm: Int
    /// π_t(a|x): the arm's probability of showing a first.
    var probability: Double
    /// q̂_t(x, a): the arm's model's predicted click probability of a.
    var predicted: Double
    /// q̂_t(x, π_t) = Σ_a' π_t(a'|x) q̂_t(x, a'): the model's expected click rate under the arm's policy.
    var expected: Double
    /// The arm's own first choice (its model's best candidate).
    var choice: String
}
