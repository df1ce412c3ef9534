import ArgumentParser

// Placeholder so the package builds; replaced by the issue that builds `duet experiment`.
struct ExperimentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "experiment", abstract: "(not built yet)")
}
