import ArgumentParser

// Placeholder so the package builds; replaced by the issue that builds `duet train`.
struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "(not built yet)")
}
