/// A Redis Stream entry id (`MS-SEQ`) as one `UInt64` (`MS << 20 | SEQ`), so a model version can
/// record in its `feedbackOffset` the feedback-stream entry it has learned through. Ids order as
/// their numbers do. Holds while MS < 2^44 (the year 2527) and SEQ < 2^20 (a million entries in one
/// millisecond).
public enum StreamPosition {
    /// The number of `id`, or nil for an id that is not `MS-SEQ` within those bounds.
    public static func number(_ id: String) -> UInt64? {
        let parts = id.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let ms = UInt64(parts[0]), let seq = UInt64(parts[1]), ms < 1 << 44, seq < 1 << 20 else { return nil }
        return ms << 20 | seq
    }

    /// The stream id of `number` (0: `0-0`, before every entry).
    public static func id(_ number: UInt64) -> String { "\(number >> 20)-\(number & 0xFFFFF)" }
}
