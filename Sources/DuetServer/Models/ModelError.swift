import DuetRouting

/// Why the model registry refused a request. `HTTP/` maps each case to a status.
public enum ModelError: Error, CustomStringConvertible, Sendable {
    /// No slot by that name.
    case unknownSlot(String)
    /// A rollback the slot cannot make (no older version, or the target is not kept).
    case rollbackRefused(String)
    /// A promote to a version the slot does not keep.
    case unknownVersion(String)

    public var description: String {
        switch self {
        case .unknownSlot(let name): "no model slot '\(name)' (slots: \(SlotName.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .rollbackRefused(let why), .unknownVersion(let why): why
        }
    }
}
