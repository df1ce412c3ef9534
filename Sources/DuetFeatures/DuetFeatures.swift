/// Versioned features in Redis and the embedded store. See DESIGN.md §5.
public enum DuetFeatures {}
