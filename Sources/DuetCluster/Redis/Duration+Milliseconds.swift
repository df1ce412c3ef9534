extension Duration {
    /// Whole milliseconds (what Redis takes for PX, BLOCK).
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
