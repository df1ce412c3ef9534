/// GrowthBook-compatible routing. See DESIGN.md §3.
public enum DuetRouting {}
