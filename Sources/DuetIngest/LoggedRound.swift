import DuetModels

/// One logged choice as off-policy evaluation needs it: the logged item among every item the policy
/// being evaluated could have shown there, and the logging propensity.
///
/// - OBD logs: the catalog is every item `item_context.csv` or a `user-item_affinity_*` column names
///   (OBD: 34), in one fixed order (by id text), the same for every row;
/// - jsonl logs: the line's own `candidates`, in their order (`JSONLRoundReader`).
public struct LoggedRound: Sendable {
    /// The row's line in the file (for errors).
    public var line: Int
    public var click: Double
    /// The logged position (OBD: 1, 2 or 3; nil in jsonl logs).
    public var position: String?
    /// The logging policy's probability of showing this item (at this position): OBD's
    /// `propensity_score`, a jsonl line's `propensity`.
    public var propensity: Double
    /// The logged item, as an index into `candidates`.
    public var loggedItem: Int
    /// Every candidate's hashed features for this row's user (at this row's position): what
    /// `LogReader.readHashed` would have yielded had that item been the logged one.
    /// `candidates[loggedItem]` is the logged row.
    public var candidates: [[Feature]]
}
