import ArgumentParser
import Foundation
import LocScaleCore
import LocScaleParallel
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
        let comm = try Communicator.start()
        let logger = makeLogger(quiet: !comm.isRoot)
        do {
            try DistributedSimulation(command: self, comm: comm, logger: logger).run()
        } catch let failure as AgreedFailure {
            if let error = failure.error {
                FileHandle.standardError.write(Data("localscale: error: \(error)\n".utf8))
            }
            try? comm.barrier()
            comm.finish()
            throw ReportedOnRankZero()
        }
        comm.finish()
    }
}

/// `localscale simulate` on any number of ranks: every rank sums the atoms on its z-slab of the
/// fine grid, the fine grid is transformed with FFTW-MPI, each rank cuts and folds its planes of
/// coefficients and sends each to the rank that holds that plane of the map grid's spectrum,
/// the map grid is transformed back with FFTW-MPI, and rank 0 gathers and writes the map.
struct DistributedSimulation {
    let command: SimulateCommand
    let comm: Communicator
    let logger: Logger

    func run() throws {
        let start = Date()
        // Rank 0 reads and checks; the others read only once rank 0 has found no error.
        var failure: Error?
        var setup: (Grid, AtomicModel, DensitySimulator)?
        func load() throws -> (Grid, AtomicModel, DensitySimulator) {
            let grid = try MRCFile.readHeader(path: command.likePath).grid
            let options = command.model
            let model = try AtomicModel.read(path: command.modelPath, modelNumber: options.modelNumber,
                                             unknownElementAs: options.unknownElementAs)
            let simulator = try DensitySimulator(grid: grid, resolution: options.resolution)
            try simulator.checkFrame(model)
            return (grid, model, simulator)
        }
        if comm.isRoot {
            do {
                try checkWritable(command.outputPath)
                setup = try load()
            } catch { failure = error }
        }
        let message = try comm.broadcast(failure.map { "\($0)" } ?? "")
        if !message.isEmpty { throw AgreedFailure(error: comm.isRoot ? failure : nil) }
        let (grid, model, simulator) = try setup ?? load()
        let atoms = PreparedAtoms(model, simulator: simulator)
        let n = grid.shape, fine = simulator.fineShape

        // Atoms on this rank's slab of the fine grid, then its spectrum.
        let fineFFT = DistributedRealFFT(nz: fine.z, ny: fine.y, nx: fine.x, communicator: comm)
        if !fineFFT.planes.isEmpty {
            simulator.sumAtoms(atoms, into: fineFFT.local, planes: fineFFT.planes, rowLength: fineFFT.rowLength,
                               threads: command.threads)
        }
        let summed = Date()
        fineFFT.forward()

        // Cut, unblur, fold; each contribution goes to the rank holding its plane of the map grid.
        let coarseFFT = DistributedRealFFT(nz: n.z, ny: n.y, nx: n.x, communicator: comm)
        let starts = try comm.allGather([Double(coarseFFT.planes.lowerBound), Double(coarseFFT.planes.count)])
        let owner = (0..<n.z).map { z in
            (0..<comm.size).first { Int(starts[2 * $0]) <= z && z < Int(starts[2 * $0] + starts[2 * $0 + 1]) }!
        }
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
        let counts = (0..<comm.size).map { Int(starts[2 * $0 + 1]) * n.y * n.x }
        let displacements = (0..<comm.size).map { Int(starts[2 * $0]) * n.y * n.x }
        let map = try comm.gather(slab, counts: counts, displacements: displacements, total: n.x * n.y * n.z)
        failure = nil
        if comm.isRoot {
            do {
                try MRCFile.write(Volume(grid: grid, values: map), to: command.outputPath,
                                  labels: ["localscale \(LocalScaleCommand.version): simulate \(command.modelPath) like \(command.likePath)"])
            } catch { failure = error }
        }
        let writeMessage = try comm.broadcast(failure.map { "\($0)" } ?? "")
        if !writeMessage.isEmpty { throw AgreedFailure(error: comm.isRoot ? failure : nil) }
        logger.info("model map of \(command.modelPath): \(model.atoms.count) atoms, d_min \(formatDecimal(simulator.resolution)) Å on \(n.x)×\(n.y)×\(n.z), \(comm.size) rank(s) × \(command.threads) thread(s); atoms \(formatDecimal(summed.timeIntervalSince(start), digits: 2)) s, total \(formatDecimal(Date().timeIntervalSince(start), digits: 2)) s; wrote \(command.outputPath)")
    }
}
