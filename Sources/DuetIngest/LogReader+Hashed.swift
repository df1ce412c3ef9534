import DuetModels
import Foundation

extension LogReader {
    /// Calls `body(features, label, weight)` for every example of `path`, in file order, with the
    /// features hashed by `hasher`: what `read` then `hasher.hash` give (the same features; for
    /// OBD in a fixed order), parsed from bytes without the naming layer's per-row dictionaries.
    /// This is the path of `duet train` and `duet replay`. Errors are `LogError`s naming the file
    /// and line.
    public static func readHashed(
        _ path: String, format: Format, items: String? = nil, hasher: FeatureHasher,
        _ body: (_ features: [Feature], _ label: Double, _ weight: Double) throws -> Void
    ) throws {
        switch format {
        case .obd: try OBDLogReader.read(path, items: items ?? defaultItemsPath(for: path), hasher: hasher, body)
        case .jsonl: try JSONLLogReader.read(path, hasher: hasher, body)
        }
    }

    /// Calls `body` for every logged choice of `path`, in file order, with what off-policy evaluation
    /// needs: the logged item, its propensity, and the features of every item the policy could have
    /// shown instead, hashed by `hasher` as `readHashed` hashes the logged one.
    /// - obd: every catalog item at the row's position for the row's user (`propensity_score`);
    /// - jsonl: every line is `{"features": {…shared}, "candidates": [{…}, …], "chosen": i,
    ///   "propensity": p, "label": 0|1}` (`JSONLRoundReader`).
    /// Errors (no propensities, a logged item outside the catalog, a malformed row) are `LogError`s
    /// naming the file and line.
    public static func readRounds(
        _ path: String, format: Format, items: String? = nil, hasher: FeatureHasher, _ body: (LoggedRound) throws -> Void
    ) throws {
        switch format {
        case .obd: try OBDLogReader.readRounds(path, items: items ?? defaultItemsPath(for: path), hasher: hasher, body)
        case .jsonl: try JSONLRoundReader.readRounds(path, hasher: hasher, body)
        }
    }

    /// `item_context.csv` next to the log.
    static func defaultItemsPath(for path: String) -> String {
        URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("item_context.csv").path
    }
}
