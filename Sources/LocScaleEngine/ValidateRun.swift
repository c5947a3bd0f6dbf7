import Foundation
import LocScaleCore
import LocScaleParallel
import Logging

/// `validate` on any number of MPI ranks, no rank holding a whole map: rank 0 reads and checks
/// the headers, every rank reads its own planes (FFTW-MPI's z-slab) of every map from the files,
/// and `MapValidation.distributed` does the rest. Collective: every rank calls `run()`.
public struct ValidateRun {
    let job: ValidateJob
    let comm: Communicator
    let logger: Logger

    public init(job: ValidateJob, communicator: Communicator, logger: Logger) {
        self.job = job
        self.comm = communicator
        self.logger = logger
    }

    /// Runs the job. - Returns: the validation on rank 0, nil on the other ranks.
    public func run() throws -> MapValidation? {
        let mapReader = try open(job.map, like: nil)
        let grid = mapReader.grid
        let planes = MapValidation.slabPlanes(of: grid, communicator: comm)
        var simulated: [Float]?
        if let (path, options) = job.model.atoms {
            simulated = try DistributedSimulation(comm: comm, logger: logger)
                .modelSlabs(of: path, options: options, grid: grid, threads: job.threads)
                .planes(planes, planeStride: grid.shape.x * grid.shape.y, communicator: comm)
        }
        let reference = (path: job.map, grid: grid)
        let modelReader = try simulated == nil ? open(job.model.path, like: reference) : nil
        let maskReader = try job.mask.map { try open($0, like: reference) }
        let halfReaders = try job.halfMaps.map { try open($0, like: reference) }

        // Every rank reads its planes of every map, then checks that they are finite.
        func read(_ reader: MRCSlabReader) throws -> MRCSlab { try comm.agree { try reader.read(planes: planes) } }
        let map = try read(mapReader)
        let modelMap = try modelReader.map(read)
        let mask = try maskReader.map(read)
        let halves = try halfReaders.map(read)
        for slab in [map] + [modelMap, mask].compactMap({ $0 }) + halves {
            try comm.agree { try slab.checkFinite() }
        }
        let model = try job.model.atoms.map { atoms in
            let load = { try atoms.options.read(atoms.path) }
            return try comm.rootTries(load) ?? load()
        }
        let slabs = ValidationSlabs(grid: grid, planes: planes, map: map.values,
                                    modelMap: modelMap?.values ?? simulated!, mask: mask?.values,
                                    halves: halves.count == 2 ? (halves[0].values, halves[1].values) : nil)
        let validation = try MapValidation.distributed(name: "map", slabs: slabs, model: model,
                                                       resolution: job.model.atoms?.options.resolution,
                                                       guinierFrom: job.guinierFrom, communicator: comm)

        // Rank 0: the report.
        try comm.rootTries {
            guard let validation, let directory = job.reportDirectory else { return }
            let parameters = [("map", job.map), ("model", job.model.path), ("mask", job.mask ?? "none"),
                              ("half maps", job.halfMaps.isEmpty ? "none" : job.halfMaps.joined(separator: ", ")),
                              ("ranks", "\(comm.size)"), ("version", "localscale \(job.provenance.version)")]
            let outputs = OutputFiles()
            try ValidationReport(validations: [validation], parameters: parameters).write(to: directory, in: outputs)
            try outputs.commit()
            logger.info("wrote \(directory)/report.html and summary.json")
        }
        return validation
    }

    /// The map at `path` open on every rank: rank 0 reads and checks its header (and that it is on
    /// `reference`'s grid) first, and its failure is every rank's; then the others open it.
    private func open(_ path: String, like reference: (path: String, grid: Grid)?) throws -> MRCSlabReader {
        let checked = try comm.rootTries { () -> MRCSlabReader in
            let reader = try MRCSlabReader(path: path)
            reader.header.warnings.forEach { logger.warning("\($0)") }
            if let reference {
                try ScalingInputs.checkSameGrid(reader.grid, of: path, as: reference.grid, of: reference.path)
            }
            return reader
        }
        return try comm.agree { try checked ?? MRCSlabReader(path: path) }
    }
}
