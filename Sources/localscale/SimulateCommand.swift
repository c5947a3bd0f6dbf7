import ArgumentParser
import Foundation
import LocScaleCore
import Logging

/// Options that choose and read an atomic model, shared by `simulate` and `scale --model`.
struct ModelOptions: ParsableArguments {
    @Option(name: .customLong("model-number"), help: "Model (MODEL record / pdbx_PDB_model_num) to use; default: the first.")
    var modelNumber: Int?

    @Option(name: .customLong("unknown-element-as"), help: ArgumentHelp("Element whose scattering factor atoms of unknown elements get (default: such atoms are an error).", valueName: "symbol"))
    var unknownElementAs: String?

    @Option(help: ArgumentHelp("Resolution d_min of the model map in Å (default: Nyquist, 2 × the largest voxel size).", valueName: "Å"))
    var resolution: Double?

    /// Reads `path` and simulates its model map on `grid`, saying what it took.
    func modelMap(from path: String, on grid: Grid, threads: Int, logger: Logger) throws -> Volume {
        let start = Date()
        let model = try AtomicModel.read(path: path, modelNumber: modelNumber, unknownElementAs: unknownElementAs)
        let read = Date().timeIntervalSince(start)
        let simulator = try DensitySimulator(grid: grid, resolution: resolution)
        try simulator.checkFrame(model)
        let (map, atomSeconds, fourierSeconds) = simulator.simulateTimed(model, threads: threads)
        logger.info("model map of \(path): \(model.atoms.count) atoms, d_min \(formatDecimal(simulator.resolution)) Å on \(grid.shape.x)×\(grid.shape.y)×\(grid.shape.z); read \(formatDecimal(read, digits: 2)) s, atoms \(formatDecimal(atomSeconds, digits: 2)) s (\(formatDecimal(atomSeconds * Double(threads) / Double(model.atoms.count) * 1e6, digits: 1)) core-µs/atom), Fourier \(formatDecimal(fourierSeconds, digits: 2)) s, \(threads) thread(s)")
        return map
    }
}

/// `localscale simulate`: a model map of an atomic model on the grid of a map.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate a model map from an atomic model (PDB, mmCIF, .gz) on the grid of a map.",
        discussion: """
        Electron scattering factors (International Tables C 4.3.2.2, five Gaussians per element) \\
        with each atom's B or ANISOU and occupancy, band-limited to --resolution with a sharp \\
        Fourier cut and free of aliasing. The output has the grid of --like: shape, voxel size, \\
        origin, nstart and axis order.
        """)

    @Option(name: .customLong("model"), help: ArgumentHelp("Atomic model: PDB, mmCIF, optionally gzipped.", valueName: "model.pdb"))
    var modelPath: String

    @Option(name: .customLong("like"), help: ArgumentHelp("Map whose grid the model map gets.", valueName: "map.mrc"))
    var likePath: String

    @OptionGroup var model: ModelOptions

    @Option(help: ArgumentHelp("Threads (default: all cores).", valueName: "n"))
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: .customLong("out"), help: ArgumentHelp("Output model map (MRC, mode 2).", valueName: "model-map.mrc"))
    var outputPath: String

    func run() throws {
        let logger = makeLogger(quiet: false)
        try checkWritable(outputPath)
        let grid = try MRCFile.readHeader(path: likePath).grid
        let map = try model.modelMap(from: modelPath, on: grid, threads: threads, logger: logger)
        try MRCFile.write(map, to: outputPath, labels: ["localscale \(LocalScaleCommand.version): simulate \(modelPath) like \(likePath)"])
        logger.info("wrote \(outputPath)")
    }
}
