import ArgumentParser

/// `localscale`: model-based local amplitude scaling of cryo-EM maps.
struct LocalScaleCommand: ParsableCommand {
    static let version = BuildInfo.version

    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "localscale",
            abstract: "Model-based local amplitude scaling of cryo-EM density maps (LocScale).",
            discussion: """
            Jakobi, Wilmanns & Sachse, eLife 2017. Exit status: 0 success, 1 bad input or failure, \
            2 bad usage.
            """,
            version: BuildInfo.versionText,
            subcommands: [ScaleCommand.self, SimulateCommand.self, ValidateCommand.self, ConfidenceCommand.self,
                         InfoCommand.self])
    }
}
