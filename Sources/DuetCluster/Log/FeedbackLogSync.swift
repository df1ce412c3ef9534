/// When the feedback log asks the kernel to put appended records on the disk (`fsync`), as Redis's
/// `appendfsync`. Every mode writes a record (`write(2)`) before its append returns, so a crash of
/// the process alone (`kill -9`) loses nothing acknowledged; the mode decides what a crash of the
/// machine (power, kernel) may lose.
public enum FeedbackLogSync: String, Sendable, CaseIterable {
    /// `fsync` before every acknowledgement (appends waiting together share one): nothing is lost.
    case always
    /// `fsync` at most once a second: a machine crash loses up to the last second.
    case everysec
    /// Never `fsync`; the kernel writes back (typically within 30 s).
    case no
}
