/// The model slots an arm can be served from: the offline-trained `static` model and the `online`
/// model the learner updates. The one list of them (configs, the model registry, metrics labels).
public enum SlotName: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case `static`
    case online

    public var description: String { rawValue }
}
