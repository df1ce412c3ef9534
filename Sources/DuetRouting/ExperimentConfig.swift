/// One experiment, as written in `experiments/<key>.yaml`.
///
/// ```yaml
/// key: homepage
/// hash_version: 2
/// coverage: 1
/// status: running
/// arms:
///   - {name: static, weight: 0.6, model: static}
///   - {name: online, weight: 0.4, model: online, explore: {policy: epsilon, epsilon: 0.05}}
/// force: {qa-user-1: online}
/// guardrails: {max_logloss_ratio: 1.1, min_examples: 500, window: 2000}
/// ```
public struct ExperimentConfig: Sendable, Equatable, Codable {
    public var key: String
    public var seed: String
    public var hashVersion: Int
    public var coverage: Double
    public var namespace: Namespace?
    public var status: ExperimentStatus
    public var arms: [Arm]
    /// Whether the file gave weights (false: equal split).
    public var weightsGiven: Bool
    public var force: [String: String]
    public var defaultArm: String
    public var guardrails: Guardrails?

    public init(
        key: String, seed: String? = nil, hashVersion: Int = 2, coverage: Double = 1, namespace: Namespace? = nil,
        status: ExperimentStatus = .running, arms: [Arm], weightsGiven: Bool = true, force: [String: String] = [:],
        defaultArm: String? = nil, guardrails: Guardrails? = nil
    ) {
        self.key = key
        self.seed = seed ?? key
        self.hashVersion = hashVersion
        self.coverage = coverage
        self.namespace = namespace
        self.status = status
        self.arms = arms
        self.weightsGiven = weightsGiven
        self.force = force
        self.defaultArm = defaultArm ?? arms.first?.name ?? ""
        self.guardrails = guardrails
    }

    /// The bucket ranges users are hashed into.
    public var bucketRanges: [BucketRange] {
        GrowthBook.bucketRanges(count: arms.count, coverage: coverage, weights: arms.map(\.weight))
    }
}

public enum ExperimentStatus: String, Sendable, Codable, CaseIterable {
    case draft, running, stopped
}

public struct Arm: Sendable, Equatable, Codable {
    public var name: String
    public var weight: Double
    public var model: ModelReference
    /// How the arm chooses among its model's ranking (greedy unless `explore:` says otherwise).
    public var explore: Exploration

    public init(name: String, weight: Double, model: ModelReference, explore: Exploration = .greedy) {
        self.name = name
        self.weight = weight
        self.model = model
        self.explore = explore
    }

    enum CodingKeys: String, CodingKey { case name, weight, model, explore }

    /// An arm without `explore` is greedy.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try c.decode(String.self, forKey: .name), weight: try c.decode(Double.self, forKey: .weight),
            model: try c.decode(ModelReference.self, forKey: .model),
            explore: try c.decodeIfPresent(Exploration.self, forKey: .explore) ?? .greedy)
    }
}

/// A namespace range: experiments in one namespace with disjoint ranges never share a user.
public struct Namespace: Sendable, Equatable, Codable {
    public var name: String
    public var start: Double
    public var end: Double

    public init(name: String, start: Double, end: Double) {
        self.name = name
        self.start = start
        self.end = end
    }
}

/// When the online arm's model is rolled back by itself (see the serving docs).
public struct Guardrails: Sendable, Equatable, Codable {
    /// Roll back when online log loss / static log loss over the window exceeds this.
    public var maxLoglossRatio: Double?
    /// Feedback events needed before the guardrail may fire.
    public var minExamples: Int?
    /// Events in the rolling window.
    public var window: Int?

    public init(maxLoglossRatio: Double? = nil, minExamples: Int? = nil, window: Int? = nil) {
        self.maxLoglossRatio = maxLoglossRatio
        self.minExamples = minExamples
        self.window = window
    }
}

/// Which model serves an arm: a slot (`static`, `online`) and optionally a pinned version.
public struct ModelReference: Sendable, Hashable, Codable, CustomStringConvertible {
    public static let slots = SlotName.allCases.map(\.rawValue)
    public var slot: SlotName
    public var version: String?

    public init(slot: SlotName, version: String? = nil) {
        self.slot = slot
        self.version = version
    }

    /// Parses `static`, `static@<version>`, `online`, `online@<version>`; nil when malformed.
    public init?(parsing text: String) {
        let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        guard let slot = parts.first.flatMap({ SlotName(rawValue: String($0)) }) else { return nil }
        if parts.count == 2 {
            let version = String(parts[1])
            guard !version.isEmpty,
                  version.unicodeScalars.allSatisfy({ ($0.properties.isAlphabetic && $0.isASCII) || ("0"..."9").contains($0) || "._:-".unicodeScalars.contains($0) })
            else { return nil }
            self.init(slot: slot, version: version)
        } else {
            self.init(slot: slot)
        }
    }

    public var description: String { version.map { "\(slot.rawValue)@\($0)" } ?? slot.rawValue }
}
