import DuetModels

/// One row of an Open Bandit Dataset log as off-policy evaluation needs it: the logged item among
/// every item the policy being evaluated could have shown there, and the logging propensity.
///
/// The catalog is every item `item_context.csv` or a `user-item_affinity_*` column names (OBD: 34),
/// in one fixed order (by id text), the same for every row.
public struct OBDRound: Sendable {
    /// The row's line in the file (for errors).
    public var line: Int
    public var click: Double
    /// The logged position (OBD: 1, 2 or 3).
    public var position: String
    /// `propensity_score`: the logging policy's probability of showing this item at this position.
    public var propensity: Double
    /// The logged item, as an index into `candidates`.
    public var loggedItem: Int
    /// Every catalog item's hashed features for this row's user at this row's position: what
    /// `LogReader.readHashed` would have yielded had that item been the logged one.
    /// `candidates[loggedItem]` is the logged row.
    public var candidates: [[Feature]]
}
