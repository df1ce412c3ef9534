import ArgumentParser

// Placeholder so the package builds; replaced by the issue that builds `duet replay`.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "replay", abstract: "(not built yet)")
}
