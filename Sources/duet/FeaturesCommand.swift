import ArgumentParser

// Placeholder so the package builds; replaced by the issue that builds `duet features`.
struct FeaturesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "features", abstract: "(not built yet)")
}
