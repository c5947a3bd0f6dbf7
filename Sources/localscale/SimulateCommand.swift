import ArgumentParser
import Foundation
import LocScaleCore
import LocScaleParallel
import Logging

/// Where the model map comes from, for `scale` and `validate`: a map, or an atomic model
/// simulated on the map's grid.
struct ModelSource: ParsableArguments {
    @Option(name: .customLong("model-map"), help: ArgumentHelp("Model map on the same grid as the map.", valueName: "model.mrc"))
    var modelMapPath: String?

    @Option(name: .customLong("model"), help: ArgumentHelp("Atomic model (PDB, mmCIF, .gz) to simulate the model map from on the map's grid (instead of --model-map).", valueName: "model.pdb"))
    var modelPath: String?

    @OptionGroup var modelOptions: ModelOptions

    func validate() throws {
        guard (modelMapPath == nil) != (modelPath == nil) else {
            throw ValidationError("give either --model-map MAP.mrc or --model MODEL.pdb (with --resolution)")
        }
    }
}

/// Options that choose and read an atomic model, shared by `simulate` and `scale --model`.
struct ModelOptions: ParsableArguments {
    @Option(name: .customLong("model-number"), help: "Model (MODEL record / pdbx_PDB_model_num) to use; default: the first.")
    var modelNumber: Int?

    @Option(name: .customLong("unknown-element-as"), help: ArgumentHelp("Element whose scattering factor atoms of unknown elements get (default: such atoms are an error).", valueName: "symbol"))
    var unknownElementAs: String?

    @Option(help: ArgumentHelp("Resolution d_min of the model map in Å (default: Nyquist, 2 × the largest voxel size).", valueName: "Å"))
    var resolution: Double?
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

    @Option(name: .customLong("threads"), help: ArgumentHelp("Threads per rank (default: the cores, divided by the ranks on the node under mpirun).", valueName: "n"))
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
        try runOnRanks(quiet: false) { comm, logger in try simulate(comm: comm, logger: logger) }
    }

    private func simulate(comm: Communicator, logger: Logger) throws {
        let start = Date()
        var failure: Error?
        if comm.isRoot {
            do { try OutputFiles.checkWritable(outputPath) } catch { failure = error }
        }
        try agree(on: failure, comm: comm)
        let simulation = DistributedSimulation(comm: comm, logger: logger)
        let grid = try simulation.sharedGrid(of: likePath)
        let map = try simulation.modelMap(of: modelPath, options: model, grid: grid, threads: threads)
        if let map {
            do {
                try MRCFile.write(map, to: outputPath, labels: ["localscale \(LocalScaleCommand.version): simulate \(modelPath) like \(likePath)"])
            } catch { failure = error }
        }
        try agree(on: failure, comm: comm)
        logger.info("wrote \(outputPath) in \(formatDecimal(Date().timeIntervalSince(start), digits: 2)) s")
    }
}

/// Rank 0's `failure` on every rank, as an `AgreedFailure` (carrying the error on rank 0).
func agree(on failure: Error?, comm: Communicator) throws {
    let message = try comm.broadcast(failure.map { "\($0)" } ?? "")
    guard !message.isEmpty else { return }
    throw AgreedFailure(error: comm.isRoot ? failure : nil)
}

/// Model maps on any number of ranks: every rank sums the atoms on its z-slab of the fine grid,
/// the fine grid is transformed with FFTW-MPI, each rank cuts and folds its planes of
/// coefficients and sends each to the rank that holds that plane of the map grid's spectrum, the
/// map grid is transformed back with FFTW-MPI, and the slabs are gathered to rank 0.
struct DistributedSimulation {
    let comm: Communicator
    let logger: Logger

    /// The grid of the map at `path`, read by rank 0 first (an error there is every rank's).
    func sharedGrid(of path: String) throws -> Grid {
        var failure: Error?
        if comm.isRoot {
            do { _ = try MRCFile.readHeader(path: path) } catch { failure = error }
        }
        try agree(on: failure, comm: comm)
        return try MRCFile.readHeader(path: path).grid
    }

    /// The model map of the model at `path` on `grid`: the whole map on rank 0, nil elsewhere
    /// (collective). Rank 0 reads and checks the model first; the others read it afterwards.
    func modelMap(of path: String, options: ModelOptions, grid: Grid, threads: Int) throws -> Volume? {
        let start = Date()
        var failure: Error?
        var loaded: (AtomicModel, DensitySimulator)?
        func load() throws -> (AtomicModel, DensitySimulator) {
            let model = try AtomicModel.read(path: path, modelNumber: options.modelNumber,
                                             unknownElementAs: options.unknownElementAs)
            let simulator = try DensitySimulator(grid: grid, resolution: options.resolution)
            try simulator.checkFrame(model)
            return (model, simulator)
        }
        if comm.isRoot {
            do { loaded = try load() } catch { failure = error }
        }
        try agree(on: failure, comm: comm)
        let (model, simulator) = try loaded ?? load()
        let atoms = PreparedAtoms(model, simulator: simulator)
        let n = grid.shape, fine = simulator.fineShape

        // Atoms on this rank's slab of the fine grid, then its spectrum.
        let fineFFT = DistributedRealFFT(nz: fine.z, ny: fine.y, nx: fine.x, communicator: comm)
        if !fineFFT.planes.isEmpty {
            simulator.sumAtoms(atoms, into: fineFFT.local, planes: fineFFT.planes, rowLength: fineFFT.rowLength,
                               threads: threads)
        }
        let summed = Date()
        fineFFT.forward()

        // Cut, unblur, fold; each contribution goes to the rank holding its plane of the map grid.
        let coarseFFT = DistributedRealFFT(nz: n.z, ny: n.y, nx: n.x, communicator: comm)
        let layout = try coarseFFT.planesOfAllRanks(comm)
        let owner = (0..<n.z).map { z in layout.firstIndex { $0.contains(z) }! }
        var outgoing = [[Float]](repeating: [], count: comm.size)
        let planeFloats = fine.y * fineFFT.rowLength
        for kz in fineFFT.planes {
            simulator.fold(plane: kz, of: fineFFT.local.baseAddress! + (kz - fineFFT.planes.lowerBound) * planeFloats,
                           blur: atoms.blur) { cz, cy, cx, re, im in
                let r = owner[cz]
                outgoing[r].append(Float(cz)); outgoing[r].append(Float(cy)); outgoing[r].append(Float(cx))
                outgoing[r].append(re); outgoing[r].append(im)
            }
        }
        let incoming = try comm.allToAll(outgoing)
        let coarseRow = coarseFFT.rowLength
        for block in incoming {
            for t in stride(from: 0, to: block.count, by: 5) {
                let (cz, cy, cx) = (Int(block[t]), Int(block[t + 1]), Int(block[t + 2]))
                let at = ((cz - coarseFFT.planes.lowerBound) * n.y + cy) * coarseRow + 2 * cx
                coarseFFT.local[at] += block[t + 3]
                coarseFFT.local[at + 1] += block[t + 4]
            }
        }
        coarseFFT.inverse()

        // This rank's planes of the map (padding dropped, normalised), gathered to rank 0.
        let scale = 1 / Float(fine.x * fine.y * fine.z)
        var slab = [Float](repeating: 0, count: coarseFFT.planes.count * n.y * n.x)
        for p in 0..<coarseFFT.planes.count * n.y {
            for x in 0..<n.x { slab[p * n.x + x] = coarseFFT.local[p * coarseRow + x] * scale }
        }
        let counts = layout.map { $0.count * n.y * n.x }
        let displacements = layout.map { $0.lowerBound * n.y * n.x }
        let map = try comm.gather(slab, counts: counts, displacements: displacements, total: n.x * n.y * n.z)
        logger.info("model map of \(path): \(model.atoms.count) atoms, d_min \(formatDecimal(simulator.resolution)) Å on \(n.x)×\(n.y)×\(n.z), \(comm.size) rank(s) × \(threads) thread(s); atoms \(formatDecimal(summed.timeIntervalSince(start), digits: 2)) s, total \(formatDecimal(Date().timeIntervalSince(start), digits: 2)) s")
        return comm.isRoot ? Volume(grid: grid, values: map) : nil
    }
}
