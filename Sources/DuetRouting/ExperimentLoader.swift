import Foundation
import Yams

/// Reads experiment configs (YAML, or JSON, which YAML includes) and validates them, reporting every
/// problem with its file and field; a config with any problem is rejected whole.
///
///     let configs = try ExperimentLoader.load(files: ["experiments/homepage.yaml"])
public enum ExperimentLoader {
    static let topLevelKeys: Set<String> = [
        "key", "seed", "hash_version", "coverage", "namespace", "status", "arms", "force", "default_arm", "guardrails",
    ]

    /// Parses and validates files together (namespace overlaps are checked across them).
    public static func load(files: [String]) throws -> [ExperimentConfig] {
        var parsed: [(file: String, config: ExperimentConfig)] = []
        var problems: [ValidationProblem] = []
        for file in files {
            do {
                let text = try String(contentsOfFile: file, encoding: .utf8)
                parsed.append((file, try parse(yaml: text, file: file)))
            } catch let error as ExperimentValidationError {
                problems += error.problems
            } catch {
                problems.append(ValidationProblem(file: file, field: "(file)", message: "cannot read: \(error.localizedDescription)"))
            }
        }
        problems += validate(parsed)
        guard problems.isEmpty else { throw ExperimentValidationError(problems: problems) }
        return parsed.map(\.config)
    }

    /// Parses one config and checks everything that needs only this file.
    public static func parse(yaml: String, file: String) throws -> ExperimentConfig {
        var p = Parser(file: file)
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch {
            throw ExperimentValidationError(problems: [ValidationProblem(file: file, field: "(file)", message: "not valid YAML: \(error)")])
        }
        guard let node, let config = p.experiment(node), p.problems.isEmpty else {
            if p.problems.isEmpty { p.problem("(file)", "empty document: expected a mapping with key and arms") }
            throw ExperimentValidationError(problems: p.problems)
        }
        return config
    }

    /// Checks that need several configs: duplicate keys, overlapping ranges of running experiments
    /// in one namespace.
    public static func validate(_ configs: [(file: String, config: ExperimentConfig)]) -> [ValidationProblem] {
        var problems: [ValidationProblem] = []
        var seen: [String: String] = [:]
        for (file, c) in configs {
            if let other = seen[c.key] {
                problems.append(ValidationProblem(file: file, field: "key", message: "'\(c.key)' is also the key of \(other)"))
            } else {
                seen[c.key] = file
            }
        }
        let namespaced = configs.filter { $0.config.status == .running && $0.config.namespace != nil }
        for i in namespaced.indices {
            for j in namespaced.indices where j > i {
                let a = namespaced[i], b = namespaced[j]
                guard let na = a.config.namespace, let nb = b.config.namespace, na.name == nb.name else { continue }
                if na.start < nb.end && nb.start < na.end {
                    problems.append(ValidationProblem(
                        file: b.file, field: "namespace",
                        message: "range [\(nb.start), \(nb.end)) of namespace '\(nb.name)' overlaps [\(na.start), \(na.end)) of running experiment '\(a.config.key)' (\(a.file))"))
                }
            }
        }
        return problems
    }

    /// Walks the YAML tree, collecting problems instead of stopping at the first.
    struct Parser {
        let file: String
        var problems: [ValidationProblem] = []

        mutating func problem(_ field: String, _ message: String) {
            problems.append(ValidationProblem(file: file, field: field, message: message))
        }

        mutating func mapping(_ node: Node, _ field: String, allowed: Set<String>) -> [String: Node]? {
            guard case .mapping(let m) = node else {
                problem(field.isEmpty ? "(file)" : field, "expected a mapping")
                return nil
            }
            var out: [String: Node] = [:]
            for (k, v) in m {
                guard let name = k.string else { continue }
                let path = field.isEmpty ? name : "\(field).\(name)"
                if !allowed.contains(name) {
                    problem(path, "unknown field (known: \(allowed.sorted().joined(separator: ", ")))")
                } else if out[name] != nil {
                    problem(path, "given twice")
                } else {
                    out[name] = v
                }
            }
            return out
        }

        mutating func string(_ node: Node?, _ field: String) -> String? {
            guard let node else { return nil }
            guard case .scalar = node, node.tag.rawValue != Tag.Name.null.rawValue, let s = node.string else {
                problem(field, "expected a string")
                return nil
            }
            return s
        }

        mutating func number(_ node: Node?, _ field: String) -> Double? {
            guard let node else { return nil }
            guard case .scalar = node, node.tag.rawValue == Tag.Name.int.rawValue || node.tag.rawValue == Tag.Name.float.rawValue,
                  let v = node.float ?? node.int.map(Double.init)
            else {
                problem(field, "expected a number, got '\(node.string ?? "a collection")'")
                return nil
            }
            guard v.isFinite else {
                problem(field, "must be finite, got \(node.string ?? "\(v)")")
                return nil
            }
            return v
        }

        mutating func integer(_ node: Node?, _ field: String) -> Int? {
            guard let node else { return nil }
            guard case .scalar = node, node.tag.rawValue == Tag.Name.int.rawValue, let v = node.int else {
                problem(field, "expected an integer, got '\(node.string ?? "a collection")'")
                return nil
            }
            return v
        }

        mutating func experiment(_ node: Node) -> ExperimentConfig? {
            guard let m = mapping(node, "", allowed: ExperimentLoader.topLevelKeys) else { return nil }
            let key = string(m["key"], "key")
            if m["key"] == nil { problem("key", "missing") }
            if let key, key.isEmpty || !key.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-.".unicodeScalars.contains($0)) }) {
                problem("key", "'\(key)' must be non-empty letters, digits, '_', '-' or '.'")
            }
            let seed = string(m["seed"], "seed")
            let hashVersion = integer(m["hash_version"], "hash_version") ?? 2
            if hashVersion != 1 && hashVersion != 2 { problem("hash_version", "must be 1 or 2, got \(hashVersion)") }
            let coverage = number(m["coverage"], "coverage") ?? 1
            if !(0...1).contains(coverage) { problem("coverage", "must be within [0, 1], got \(coverage)") }
            var status = ExperimentStatus.running
            if let s = string(m["status"], "status") {
                if let st = ExperimentStatus(rawValue: s) { status = st } else {
                    problem("status", "must be one of draft, running, stopped; got '\(s)'")
                }
            }
            var ns: Namespace?
            if let n = m["namespace"] { ns = namespace(n) }
            var armList: [Arm]?
            if let n = m["arms"] { armList = arms(n) }
            if m["arms"] == nil { problem("arms", "missing") }
            var force: [String: String] = [:]
            if let f = m["force"] {
                if case .mapping(let fm) = f {
                    for (u, a) in fm {
                        guard let user = u.string else { continue }
                        guard let armName = string(a, "force.\(user)") else { continue }
                        force[user] = armName
                        if let arms = armList, !arms.contains(where: { $0.name == armName }) {
                            problem("force.\(user)", "arm '\(armName)' does not exist (arms: \(arms.map { $0.name }.joined(separator: ", ")))")
                        }
                    }
                } else {
                    problem("force", "expected a mapping of user id to arm name")
                }
            }
            let defaultArm = string(m["default_arm"], "default_arm")
            if let defaultArm, let arms = armList, !arms.contains(where: { $0.name == defaultArm }) {
                problem("default_arm", "'\(defaultArm)' is not an arm (arms: \(arms.map { $0.name }.joined(separator: ", ")))")
            }
            var rails: Guardrails?
            if let n = m["guardrails"] { rails = guardrails(n) }
            guard let key, let arms = armList, problems.isEmpty else { return nil }
            let weightsGiven = arms.contains { $0.weight >= 0 }
            let finalArms = weightsGiven ? arms : arms.map { Arm(name: $0.name, weight: 1 / Double(arms.count), model: $0.model, explore: $0.explore) }
            return ExperimentConfig(
                key: key, seed: seed, hashVersion: hashVersion, coverage: coverage, namespace: ns, status: status,
                arms: finalArms, weightsGiven: weightsGiven, force: force, defaultArm: defaultArm, guardrails: rails)
        }

        mutating func namespace(_ node: Node) -> Namespace? {
            guard let m = mapping(node, "namespace", allowed: ["name", "start", "end"]) else { return nil }
            let name = string(m["name"], "namespace.name")
            if m["name"] == nil { problem("namespace.name", "missing") }
            if let name, name.isEmpty { problem("namespace.name", "must not be empty") }
            let start = number(m["start"], "namespace.start")
            let end = number(m["end"], "namespace.end")
            if m["start"] == nil { problem("namespace.start", "missing") }
            if m["end"] == nil { problem("namespace.end", "missing") }
            guard let name, let start, let end else { return nil }
            if !(0...1).contains(start) { problem("namespace.start", "must be within [0, 1], got \(start)") }
            if !(0...1).contains(end) { problem("namespace.end", "must be within [0, 1], got \(end)") }
            if start >= end { problem("namespace", "start (\(start)) must be below end (\(end))") }
            return Namespace(name: name, start: start, end: end)
        }

        /// Arms; a missing weight is recorded as -1 (all missing: equal split).
        mutating func arms(_ node: Node) -> [Arm]? {
            guard case .sequence(let seq) = node else {
                problem("arms", "expected a list of arms")
                return nil
            }
            if seq.count < 2 { problem("arms", "needs at least 2 arms, got \(seq.count)") }
            var arms: [Arm] = []
            var names: Set<String> = []
            var withWeight = 0
            for (i, armNode) in seq.enumerated() {
                let path = "arms[\(i)]"
                guard let m = mapping(armNode, path, allowed: ["name", "weight", "model", "explore"]) else { continue }
                let name = string(m["name"], "\(path).name")
                if m["name"] == nil { problem("\(path).name", "missing") }
                if let name {
                    if name.isEmpty { problem("\(path).name", "must not be empty") }
                    if !names.insert(name).inserted { problem("\(path).name", "duplicate arm name '\(name)'") }
                }
                var weight = -1.0
                if m["weight"] != nil {
                    withWeight += 1
                    if let w = number(m["weight"], "\(path).weight") {
                        if w < 0 { problem("\(path).weight", "must not be negative, got \(w)") }
                        weight = w
                    }
                }
                let modelText = string(m["model"], "\(path).model")
                if m["model"] == nil { problem("\(path).model", "missing") }
                var model: ModelReference?
                if let modelText {
                    model = ModelReference(parsing: modelText)
                    if model == nil {
                        problem("\(path).model", "'\(modelText)' is not a model reference (static, static@VERSION, online, online@VERSION)")
                    }
                }
                var explore = Exploration.greedy
                if let n = m["explore"] { explore = exploration(n, "\(path).explore") ?? .greedy }
                if let name, let model { arms.append(Arm(name: name, weight: weight, model: model, explore: explore)) }
            }
            if withWeight > 0 && withWeight < seq.count {
                problem("arms", "give a weight to every arm or to none (equal split); \(withWeight) of \(seq.count) have one")
            } else if withWeight == seq.count && seq.count > 0 && problems.isEmpty {
                let sum = arms.reduce(0) { $0 + $1.weight }
                if abs(sum - 1) > 0.01 { problem("arms", "weights must sum to 1 (±0.01), they sum to \(sum)") }
            }
            return arms
        }

        /// `explore: {policy: greedy|epsilon|softmax, epsilon: E, temperature: T}`.
        mutating func exploration(_ node: Node, _ path: String) -> Exploration? {
            guard let m = mapping(node, path, allowed: ["policy", "epsilon", "temperature"]) else { return nil }
            if m["policy"] == nil { problem("\(path).policy", "missing (one of greedy, epsilon, softmax)") }
            guard let text = string(m["policy"], "\(path).policy") else { return nil }
            guard let policy = Exploration.Policy(rawValue: text) else {
                problem("\(path).policy", "must be one of greedy, epsilon, softmax; got '\(text)'")
                return nil
            }
            let epsilon = number(m["epsilon"], "\(path).epsilon")
            let temperature = number(m["temperature"], "\(path).temperature")
            if m["epsilon"] != nil && policy != .epsilon { problem("\(path).epsilon", "applies to policy epsilon only (policy is \(text))") }
            if m["temperature"] != nil && policy != .softmax { problem("\(path).temperature", "applies to policy softmax only (policy is \(text))") }
            switch policy {
            case .greedy:
                return .greedy
            case .epsilon:
                let e = epsilon ?? Exploration.defaultEpsilon
                guard (0...1).contains(e) else {
                    problem("\(path).epsilon", "must be within [0, 1], got \(e)")
                    return nil
                }
                return Exploration(policy: .epsilon, epsilon: e)
            case .softmax:
                guard m["temperature"] != nil else {
                    problem("\(path).temperature", "missing: softmax needs a temperature on the scale of the scores (predicted click probabilities; 0.01 prefers strongly, 1 is nearly uniform)")
                    return nil
                }
                guard let t = temperature, t > 0, t <= 1e6 else {
                    if let t = temperature { problem("\(path).temperature", "must be above 0 and at most 1e6, got \(t)") }
                    return nil
                }
                return Exploration(policy: .softmax, temperature: t)
            }
        }

        mutating func guardrails(_ node: Node) -> Guardrails? {
            guard let m = mapping(node, "guardrails", allowed: ["max_logloss_ratio", "min_examples", "window"]) else { return nil }
            let ratio = number(m["max_logloss_ratio"], "guardrails.max_logloss_ratio")
            if let ratio, ratio <= 1 { problem("guardrails.max_logloss_ratio", "must be above 1, got \(ratio)") }
            let minExamples = integer(m["min_examples"], "guardrails.min_examples")
            if let minExamples, minExamples < 0 { problem("guardrails.min_examples", "must not be negative") }
            let window = integer(m["window"], "guardrails.window")
            if let window, window < 1 { problem("guardrails.window", "must be at least 1") }
            return Guardrails(maxLoglossRatio: ratio, minExamples: minExamples, window: window)
        }
    }
}
