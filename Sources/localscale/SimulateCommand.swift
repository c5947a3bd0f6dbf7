import ArgumentParser
import Foundation
import LocScaleCore
import LocScaleEngine

/// Where the model map comes from, for `scale` and `validate`: a map, or an atomic model
/// simulated on the map's grid.
struct ModelSource: ParsableArguments {
    @Option(name: .customLong("model-map"), help: ArgumentHelp(
        "Model map on the same grid as the map.",
        valueName: "model.mrc"))
    var modelMapPath: String?

    @Option(name: .customLong("model"), help: ArgumentHelp(
        "Atomic model (PDB, mmCIF, .gz) to simulate the model map from on the map's grid (instead of --model-map).",
        valueName: "model.pdb"))
    var modelPath: String?

    @OptionGroup var modelOptions: ModelOptions

    func validate() throws {
        guard (modelMapPath == nil) != (modelPath == nil) else {
            throw ValidationError("give either --model-map MAP.mrc or --model MODEL.pdb (with --resolution)")
        }
    }

    /// The model (the checks of `validate()` passed).
    var model: ModelInput {
        modelPath.map { .atoms($0, modelOptions.atomicModel) } ?? .map(modelMapPath ?? "")
    }
}

/// Options that choose and read an atomic model, shared by `simulate` and `scale --model`.
struct ModelOptions: ParsableArguments {
    @Option(name: .customLong("model-number"), help: "Model (MODEL record / pdbx_PDB_model_num) to use; default: the first.")
    var modelNumber: Int?

    @Option(name: .customLong("unknown-element-as"), help: ArgumentHelp(
        "Element whose scattering factor atoms of unknown elements get (default: such atoms are an error).",
        valueName: "symbol"))
    var unknownElementAs: String?

    @Option(help: ArgumentHelp(
        "Resolution d_min of the model map in Å (default: Nyquist, 2 × the largest voxel size).",
        valueName: "Å"))
    var resolution: Double?

    var atomicModel: AtomicModelOptions {
        AtomicModelOptions(modelNumber: modelNumber, unknownElementAs: unknownElementAs, resolution: resolution)
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

    @Option(name: .customLong("model"), help: ArgumentHelp(
        "Atomic model: PDB, mmCIF, optionally gzipped.",
        valueName: "model.pdb"))
    var modelPath: String

    @Option(name: .customLong("like"), help: ArgumentHelp("Map whose grid the model map gets.", valueName: "map.mrc"))
    var likePath: String

    @OptionGroup var model: ModelOptions

    @Option(name: .customLong("threads"), help: ArgumentHelp(
        "Threads per rank (default: the cores, divided by the ranks on the node under mpirun).",
        valueName: "n"))
    var requestedThreads: Int?

    var threads: Int { requestedThreads ?? coresPerLocalRank() }

    func validate() throws {
        if let requestedThreads, requestedThreads < 1 {
            throw ValidationError("--threads \(requestedThreads): must be at least 1")
        }
        if let collision = NamedPath.firstCollision(outputs: [NamedPath("--out", outputPath)],
                                                    inputs: [NamedPath("--model", modelPath), NamedPath("--like", likePath)]) {
            throw ValidationError(collision)
        }
    }

    @Option(name: .customLong("out"), help: ArgumentHelp("Output model map (MRC, mode 2).", valueName: "model-map.mrc"))
    var outputPath: String

    func run() throws {
        let job = SimulateJob(model: modelPath, options: model.atomicModel, like: likePath, out: outputPath,
                              threads: threads, provenance: .ofThisRun)
        try runOnRanks(quiet: false) { comm, logger in
            let seconds = try SimulateRun(job: job, communicator: comm, logger: logger).run()
            logger.info("wrote \(outputPath) in \(formatDecimal(seconds, digits: 2)) s")
        }
    }
}
