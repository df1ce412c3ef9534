/// Feature hashing, the FM model, optimizers, versions. See DESIGN.md §4.
public enum DuetModels {}
