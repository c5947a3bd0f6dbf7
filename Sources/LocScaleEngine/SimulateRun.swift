import Foundation
import LocScaleCore
import LocScaleParallel
import Logging

/// `simulate` on any number of MPI ranks: the model map of an atomic model on the grid of a map,
/// written by every rank's slab (MPI-IO). Collective: every rank calls `run()`.
public struct SimulateRun {
    let job: SimulateJob
    let comm: Communicator
    let logger: Logger

    public init(job: SimulateJob, communicator: Communicator, logger: Logger) {
        self.job = job
        self.comm = communicator
        self.logger = logger
    }

    /// Runs the job. - Returns: the seconds it took, on every rank.
    public func run() throws -> Double {
        let start = Date()
        try comm.rootTries { try OutputFiles.checkWritable(job.out) }
        let simulation = DistributedSimulation(comm: comm, logger: logger)
        let grid = try simulation.sharedGrid(of: job.like)
        let map = try simulation.modelSlabs(of: job.model, options: job.options, grid: grid, threads: job.threads)
        let outputs = OutputFiles()
        let label = "localscale \(job.provenance.version): simulate \(job.model) like \(job.like)"
        _ = try DistributedMRCWriter.write(planes: map.planes, values: map.values, grid: grid, labels: [label],
                                           to: job.out, in: outputs, communicator: comm)
        try comm.rootTries { try outputs.commit() }
        return Date().timeIntervalSince(start)
    }
}

/// Model maps on any number of ranks: every rank sums the atoms on its z-slab of the fine grid,
/// the fine grid is transformed (`DistributedSlabGrid`), each rank cuts and folds its planes of
/// coefficients and sends each to the rank that holds that plane of the map grid's spectrum, the
/// map grid is transformed back; each rank keeps its planes of the map, bit for bit the same
/// for any rank count.
struct DistributedSimulation {
    let comm: Communicator
    let logger: Logger

    /// The grid of the map at `path`, read by rank 0 first (an error there is every rank's).
    func sharedGrid(of path: String) throws -> Grid {
        try comm.rootTries { _ = try MRCFile.readHeader(path: path) }
        return try MRCFile.readHeader(path: path).grid
    }

    /// The model map of the model at `path` on `grid`, each rank's planes of an even split of the
    /// map's planes (collective). Rank 0 reads and checks the model first; the others read it afterwards.
    func modelSlabs(of path: String, options: AtomicModelOptions, grid: Grid, threads: Int) throws -> PlaneSlabs {
        let start = Date()
        func load() throws -> (AtomicModel, DensitySimulator) {
            let model = try options.read(path)
            let simulator = try DensitySimulator(grid: grid, resolution: options.resolution)
            try simulator.checkFrame(model)
            return (model, simulator)
        }
        let (model, simulator) = try comm.rootTries(load) ?? load()
        let atoms = PreparedAtoms(model, simulator: simulator)
        let n = grid.shape, fine = simulator.fineShape

        // Atoms on this rank's slab of the fine grid, then its spectrum. `DistributedSlabGrid`
        // transforms every plane and column the same way for any rank count, and the
        // contributions to a map coefficient are summed in fine-plane order on every rank count
        // (blocks arrive in rank order, each rank's planes in order): N ranks give 1 rank's map.
        let fineGrid = try DistributedSlabGrid(size: fine, communicator: comm, planning: .estimate, threads: threads)
        let fineValues = fineGrid.makeBuffer()
        if !fineGrid.planes.isEmpty {
            simulator.sumAtoms(atoms, into: fineValues.buffer, planes: fineGrid.planes, rowLength: fineGrid.rowLength,
                               threads: threads)
        }
        let summed = Date()
        fineGrid.forward(fineValues)

        // Cut, unblur, fold; each contribution goes to the rank holding its plane of the map grid.
        let coarseGrid = try DistributedSlabGrid(size: n, communicator: comm, planning: .estimate, threads: threads)
        let layout = coarseGrid.planesOfAllRanks
        let owner = (0..<n.z).map { z in layout.firstIndex { $0.contains(z) }! }
        var outgoing = [[Float]](repeating: [], count: comm.size)
        for kz in fineGrid.planes {
            simulator.fold(plane: kz, of: fineValues.pointer + (kz - fineGrid.planes.lowerBound) * fineGrid.planeStride,
                           blur: atoms.blur) { cz, cy, cx, re, im in
                let r = owner[cz]
                outgoing[r].append(Float(cz)); outgoing[r].append(Float(cy)); outgoing[r].append(Float(cx))
                outgoing[r].append(re); outgoing[r].append(im)
            }
        }
        let incoming = try comm.allToAll(outgoing)
        let coarse = coarseGrid.makeBuffer(), coarseRow = coarseGrid.rowLength
        for block in incoming {
            for t in stride(from: 0, to: block.count, by: 5) {
                let (cz, cy, cx) = (Int(block[t]), Int(block[t + 1]), Int(block[t + 2]))
                let at = ((cz - coarseGrid.planes.lowerBound) * n.y + cy) * coarseRow + 2 * cx
                coarse.pointer[at] += block[t + 3]
                coarse.pointer[at + 1] += block[t + 4]
            }
        }
        coarseGrid.inverse(coarse)

        // This rank's planes of the map (padding dropped, normalised).
        let scale = 1 / Float(fine.x * fine.y * fine.z)
        var slab = [Float](repeating: 0, count: coarseGrid.planes.count * n.y * n.x)
        for p in 0..<coarseGrid.planes.count * n.y {
            for x in 0..<n.x { slab[p * n.x + x] = coarse.pointer[p * coarseRow + x] * scale }
        }
        let atomSeconds = formatDecimal(summed.timeIntervalSince(start), digits: 2)
        let totalSeconds = formatDecimal(Date().timeIntervalSince(start), digits: 2)
        logger.info("""
            model map of \(path): \(model.atoms.count) atoms, d_min \(formatDecimal(simulator.resolution)) Å on \
            \(n.x)×\(n.y)×\(n.z), \(comm.size) rank(s) × \(threads) thread(s); atoms \(atomSeconds) s, \
            total \(totalSeconds) s
            """)
        return PlaneSlabs(planes: coarseGrid.planes, values: slab, planesOfAllRanks: layout)
    }
}

/// A map held by z-slabs on the ranks: this rank's planes, and which planes every rank holds
/// (they tile the map's planes, in any order of the ranks: the scaling's tilings are not in rank
/// order, `ExactSlabPlan`).
struct PlaneSlabs {
    let planes: Range<Int>
    /// This rank's planes, (z, y, x), x fastest.
    let values: [Float]
    let planesOfAllRanks: [Range<Int>]

    /// This rank's `wanted` planes (any range; ranks may want the same planes), received from
    /// the ranks that hold them (collective: every rank passes its own).
    func planes(_ wanted: Range<Int>, planeStride: Int, communicator comm: Communicator) throws -> [Float] {
        let bounds = try comm.allGather([Double(wanted.lowerBound), Double(wanted.upperBound)])
        let wantedByRank = (0..<comm.size).map { Int(bounds[2 * $0]) ..< Int(bounds[2 * $0 + 1]) }
        let transfers = planeTransfers(owned: planesOfAllRanks, wanted: wantedByRank)
        return try values.withUnsafeBufferPointer {
            try comm.planes(wanted, owned: planes, local: $0, planeStride: planeStride, transfers: transfers)
        }
    }
}
