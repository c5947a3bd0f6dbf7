import Foundation
import LocScaleCore
import LocScaleParallel
import Logging

/// `validate` on any number of MPI ranks: the Fourier transforms run with FFTW-MPI on the
/// z-slab layout; rank 0 reads the maps and does the real-space parts. Collective: every rank
/// calls `run()`.
public struct ValidateRun {
    let job: ValidateJob
    let comm: Communicator
    let logger: Logger

    public init(job: ValidateJob, communicator: Communicator, logger: Logger) {
        self.job = job
        self.comm = communicator
        self.logger = logger
    }

    /// The maps rank 0 reads.
    private struct Inputs {
        let map: Volume
        let modelMap: Volume
        let mask: Volume?
        let halves: (Volume, Volume)?
        let model: AtomicModel?
    }

    /// Runs the job. - Returns: the validation on rank 0, nil on the other ranks.
    public func run() throws -> MapValidation? {
        let simulation = DistributedSimulation(comm: comm, logger: logger)
        let grid = try simulation.sharedGrid(of: job.map)
        var simulated: Volume?
        if let (path, options) = job.model.atoms {
            simulated = try simulation.modelMap(of: path, options: options, grid: grid, threads: job.threads)
        }
        // Rank 0 reads and checks the maps.
        let inputs = try comm.rootTries { try readInputs(simulated: simulated) }

        // The Fourier comparisons, every rank taking part.
        let fourier = try DistributedShellSums(comm: comm, grid: grid)
        var sums: [ShellSums] = []
        for request in MapValidation.requests(masked: job.mask != nil, halves: job.halfMaps.count == 2) {
            func volume(_ role: MapValidation.Role) -> Volume? {
                guard let inputs else { return nil }
                switch role {
                case .map: return inputs.map
                case .model: return inputs.modelMap
                case .half1: return inputs.halves?.0
                case .half2: return inputs.halves?.1
                }
            }
            sums.append(try fourier.sums(volume(request.first), volume(request.second),
                                         mask: request.masked ? inputs?.mask : nil))
        }

        // Rank 0: real space, the summary and the report.
        return try comm.rootTries { () -> MapValidation? in
            guard let inputs else { return nil }
            let validation = MapValidation(name: "map", map: inputs.map, modelMap: inputs.modelMap, mask: inputs.mask,
                                           halfMaps: inputs.halves != nil, model: inputs.model,
                                           resolution: job.model.atoms?.options.resolution,
                                           guinierFrom: job.guinierFrom, sums: sums)
            if let directory = job.reportDirectory {
                let parameters = [("map", job.map), ("model", job.model.path), ("mask", job.mask ?? "none"),
                                  ("half maps", job.halfMaps.isEmpty ? "none" : job.halfMaps.joined(separator: ", ")),
                                  ("ranks", "\(comm.size)"), ("version", "localscale \(job.provenance.version)")]
                let outputs = OutputFiles()
                try ValidationReport(validations: [validation], parameters: parameters)
                    .write(to: directory, in: outputs)
                try outputs.commit()
                logger.info("wrote \(directory)/report.html and summary.json")
            }
            return validation
        } ?? nil
    }

    /// Rank 0: reads the maps and the model, and checks that they share the grid and are finite.
    private func readInputs(simulated: Volume?) throws -> Inputs {
        func read(_ path: String) throws -> NamedVolume { try readMap(path, logger: logger) }
        let map = try read(job.map)
        let modelMap = try simulated.map { NamedVolume(path: job.model.path, volume: $0) } ?? read(job.model.path)
        let mask = try job.mask.map(read)
        let halves = try job.halfMaps.map(read)
        for other in [modelMap] + (mask.map { [$0] } ?? []) + halves {
            try ScalingInputs.checkSameGrid(other, as: map)
        }
        for volume in [map, modelMap] + (mask.map { [$0] } ?? []) + halves {
            try ScalingInputs.checkFinite(volume)
        }
        let model = try job.model.atoms.map { try $0.options.read($0.path) }
        return Inputs(map: map.volume, modelMap: modelMap.volume, mask: mask?.volume,
                      halves: halves.count == 2 ? (halves[0].volume, halves[1].volume) : nil, model: model)
    }
}

/// Fourier-shell sums of two maps with FFTW-MPI on the z-slab layout: rank 0 holds the maps,
/// every rank transforms its planes and sums its shells, and the sums are added over the ranks.
struct DistributedShellSums {
    let comm: Communicator
    let grid: Grid
    private let first: DistributedRealFFT
    private let second: DistributedRealFFT
    private let counts: [Int]
    private let displacements: [Int]

    init(comm: Communicator, grid: Grid) throws {
        self.comm = comm
        self.grid = grid
        let n = grid.shape
        first = DistributedRealFFT(nz: n.z, ny: n.y, nx: n.x, communicator: comm)
        second = DistributedRealFFT(nz: n.z, ny: n.y, nx: n.x, communicator: comm)
        let plane = n.x * n.y
        let layout = try first.planesOfAllRanks(comm)
        counts = layout.map { $0.count * plane }
        displacements = layout.map { $0.lowerBound * plane }
    }

    /// The shell sums of `a·mask` and `b·mask` (given on rank 0; ignored elsewhere), on every rank.
    func sums(_ a: Volume?, _ b: Volume?, mask: Volume?) throws -> ShellSums {
        let n = grid.shape
        for (map, fft) in [(a, first), (b, second)] {
            let values = map.map { m in mask.map { k in zip(m.values, k.values).map { $0 * $1 } } ?? m.values } ?? []
            let slab = try comm.scatter(values, counts: counts, displacements: displacements)
            for p in 0..<fft.planes.count * n.y {
                for x in 0..<n.x { fft.local[p * fft.rowLength + x] = slab[p * n.x + x] }
            }
            fft.forward()
        }
        var local = ShellSums(grid: grid)
        let planeFloats = n.y * first.rowLength
        for kz in first.planes {
            let offset = (kz - first.planes.lowerBound) * planeFloats
            local.add(plane: kz, a: first.local.baseAddress! + offset, b: second.local.baseAddress! + offset)
        }
        return ShellSums(grid: grid, values: try comm.allReduceSum(local.values))
    }
}
