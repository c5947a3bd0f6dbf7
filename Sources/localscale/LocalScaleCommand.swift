import ArgumentParser
import LocScaleCore
import LocScaleHDF5
import LocScaleParallel

/// `localscale`: model-based local amplitude scaling of cryo-EM maps.
struct LocalScaleCommand: ParsableCommand {
    static let version = "0.1.0"

    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "localscale",
            abstract: "Model-based local amplitude scaling of cryo-EM density maps (LocScale).",
            discussion: """
            Jakobi, Wilmanns & Sachse, eLife 2017. Exit status: 0 success, 1 bad input or failure, \
            2 bad usage.
            """,
            version: "localscale \(version) (\(FFTW.version), \(MPILibrary.version), HDF5 \(HDF5Library.version))",
            subcommands: [ScaleCommand.self, SimulateCommand.self, ValidateCommand.self, InfoCommand.self])
    }
}
