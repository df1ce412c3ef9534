/// What counts as a click: feedback labels are rewards in [0, 1], and a label of at least 0.5 is a
/// click (CTR, click counters, per-arm reports). The one threshold of Duet.
public enum Click {
    public static let threshold = 0.5

    @inlinable
    public static func isClick(_ label: Double) -> Bool { label >= threshold }
}
