import Foundation

/// Where the server reads the time of day (CTR timeline buckets, publish timestamps), so tests can
/// hand the app a clock of their own.
public protocol WallClock: Sendable {
    func now() -> Date
}

/// The system's clock.
public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}
