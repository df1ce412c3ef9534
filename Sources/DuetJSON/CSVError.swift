/// A malformed CSV file: the source (a path or URL), the line, and what is wrong there.
public struct CSVError: Error, CustomStringConvertible, Sendable {
    public var source: String
    public var line: Int
    public var problem: String

    public init(source: String, line: Int, problem: String) {
        self.source = source
        self.line = line
        self.problem = problem
    }

    public var description: String { "\(source): line \(line): \(problem)" }
}
