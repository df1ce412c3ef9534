import ArgumentParser

/// The `duet` command line: the server, the experiment tools, models and features.
@main
struct Duet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "duet",
        abstract: "Online-learning recommender with a built-in A/B router.",
        subcommands: [
            ServeCommand.self,
            RollbackCommand.self,
            ModelCommand.self,
            ClusterCommand.self,
            AuditCommand.self,
            DemoCommand.self,
            OpenAPICommand.self,
            ExperimentCommand.self,
            FeaturesCommand.self,
            TrainCommand.self,
            ReplayCommand.self,
        ]
    )
}
