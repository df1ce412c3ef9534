import DuetModels
import Foundation

/// The jsonl log of logged choices, for off-policy evaluation (`duet replay --policy`) and, through
/// `JSONLLogReader`, for training on the chosen item:
///
///     {"features": {"segment": "s1"}, "candidates": [{"item_id": "d0"}, {"item_id": "d1"}],
///      "chosen": 1, "propensity": 0.5, "label": 1}
///
/// `features` are the context, shared by every candidate; each candidate's row is the context and
/// the candidate's own fields (a name in both is an error), hashed as a plain jsonl line with those
/// features would be, so a model trained on plain lines scores these candidates with the same
/// features. `chosen` is the index of the item the logging policy showed, `propensity` its
/// probability of showing it (within (0, 1]), `label` the feedback on it.
///
/// Lines are parsed with `JSONSerialization`: this is not the training hot path (plain lines are;
/// `JSONLineParser`), and each line holds every candidate's fields.
enum JSONLRoundReader {
    static func readRounds(_ path: String, hasher: FeatureHasher, _ body: (LoggedRound) throws -> Void) throws {
        let lines = try LineReader(path: path)
        while let line = try lines.next() {
            guard !line.isEmpty else { continue }
            try body(try round(line, hasher: hasher, path: path, line: lines.lineNumber))
        }
    }

    /// One line's logged choice; `LogError`s name the file, the line and the field.
    static func round(_ bytes: UnsafeRawBufferPointer, hasher: FeatureHasher, path: String, line: Int) throws -> LoggedRound {
        func fail(_ message: String) -> LogError { LogError("\(path):\(line): \(message)") }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else { throw fail("not a JSON object") }
        guard let shared = object["features"] as? [String: Any] else { throw fail("features: missing or not an object") }
        guard let list = object["candidates"] as? [Any], !list.isEmpty else { throw fail("candidates: missing or not a non-empty array") }
        guard let label = (object["label"] as? NSNumber)?.doubleValue, label.isFinite else { throw fail("label: missing or not a number") }
        guard let chosen = (object["chosen"] as? NSNumber).flatMap({ Int(exactly: $0.doubleValue) }), list.indices.contains(chosen) else {
            throw fail("chosen: missing or not an index into candidates (0…\(list.count - 1))")
        }
        guard let propensity = (object["propensity"] as? NSNumber)?.doubleValue, propensity > 0, propensity <= 1 else {
            throw fail("propensity: missing or not within (0, 1]")
        }
        let context = try values(shared, "features", fail)
        var candidates: [[Feature]] = []
        candidates.reserveCapacity(list.count)
        for (i, item) in list.enumerated() {
            guard let fields = item as? [String: Any] else { throw fail("candidates[\(i)]: not an object") }
            let own = try values(fields, "candidates[\(i)]", fail)
            if let clash = own.keys.sorted().first(where: { context[$0] != nil }) {
                throw fail("candidates[\(i)].\(clash): also in features (a name is either the context's or the candidate's)")
            }
            let row = context.merging(own) { a, _ in a }.sorted { $0.key < $1.key }.map { NamedFeature($0.key, $0.value) }
            candidates.append(hasher.hash(row))
        }
        return LoggedRound(line: line, click: label, position: nil, propensity: propensity, loggedItem: chosen, candidates: candidates)
    }

    /// An object's members as feature values: strings, and numbers (`true`/`false` as 1/0).
    private static func values(_ fields: [String: Any], _ at: String, _ fail: (String) -> LogError) throws -> [String: FeatureValue] {
        var out: [String: FeatureValue] = [:]
        for (name, value) in fields {
            if let s = value as? String {
                out[name] = .string(s)
            } else if let n = value as? NSNumber, n.doubleValue.isFinite {
                out[name] = .number(n.doubleValue)
            } else {
                throw fail("\(at).\(name): expected a string or a number")
            }
        }
        return out
    }
}
