/// One thing wrong with a config: which file, which field, what.
public struct ValidationProblem: Sendable, Equatable, CustomStringConvertible, Codable {
    public var file: String
    public var field: String
    public var message: String

    public init(file: String, field: String, message: String) {
        self.file = file
        self.field = field
        self.message = message
    }

    /// `FILE: field: problem`
    public var description: String { "\(file): \(field): \(message)" }
}

/// Configs rejected whole, with every problem found.
public struct ExperimentValidationError: Error, Sendable, CustomStringConvertible {
    public var problems: [ValidationProblem]

    public init(problems: [ValidationProblem]) { self.problems = problems }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
