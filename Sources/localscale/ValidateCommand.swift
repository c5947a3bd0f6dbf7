import ArgumentParser
import Foundation
import LocScaleCore
import LocScaleParallel
import Logging

/// `localscale validate`: FSC, RSCC and radial profiles of a map against a model, with a report.
/// An MPI job: the Fourier transforms run with FFTW-MPI on the z-slab layout; rank 0 reads the
/// maps and does the real-space parts.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Compare a map with a model map or atomic model: FSC, RSCC (global, per residue), Guinier B, report.")

    @Option(name: .customLong("map"), help: ArgumentHelp("Map to validate.", valueName: "map.mrc"))
    var mapPath: String

    @OptionGroup var source: ModelSource

    var modelMapPath: String? { source.modelMapPath }
    var modelPath: String? { source.modelPath }
    var modelOptions: ModelOptions { source.modelOptions }

    @Option(name: .customLong("mask"), help: ArgumentHelp("Mask on the same grid (masked FSC; RSCC over mask ≥ 0.5).", valueName: "mask.mrc"))
    var maskPath: String?

    @Option(name: .customLong("half-maps"), parsing: .upToNextOption, help: ArgumentHelp("Two half maps: half-map FSC and FSC_ref.", valueName: "half.mrc"))
    var halfMapPaths: [String] = []

    @Option(name: .customLong("report"), help: ArgumentHelp("Folder for report.html, summary.json and CSV files.", valueName: "dir"))
    var reportDirectory: String?

    @Option(name: .customLong("guinier-from"), help: ArgumentHelp("Low-resolution end of the Guinier fit in Å; the high end is --resolution, else the half-map 0.143 resolution, else Nyquist.", valueName: "Å"))
    var guinierFrom: Double = 10

    @Option(name: .customLong("threads"), help: ArgumentHelp("Threads per rank for the model simulation.", valueName: "n"))
    var requestedThreads: Int?

    func validate() throws {
        guard halfMapPaths.isEmpty || halfMapPaths.count == 2 else {
            throw ValidationError("--half-maps takes two maps")
        }
        let inputs = [NamedPath("--map", mapPath), modelMapPath.map { NamedPath("--model-map", $0) },
                      modelPath.map { NamedPath("--model", $0) }, maskPath.map { NamedPath("--mask", $0) }]
            .compactMap { $0 } + halfMapPaths.map { NamedPath("--half-maps", $0) }
        let outputs = (reportDirectory.map { ValidationReport.files(in: $0, maps: ["map"]) } ?? [])
            .map { NamedPath("--report", $0) }
        if let collision = NamedPath.firstCollision(outputs: outputs, inputs: inputs) {
            throw ValidationError(collision)
        }
    }

    func run() throws {
        try runOnRanks(quiet: false) { comm, logger in try validate(comm: comm, logger: logger) }
    }

    private func validate(comm: Communicator, logger: Logger) throws {
        let simulation = DistributedSimulation(comm: comm, logger: logger)
        let grid = try simulation.sharedGrid(of: mapPath)
        var simulated: Volume?
        if let modelPath {
            simulated = try simulation.modelMap(of: modelPath, options: modelOptions, grid: grid,
                                                threads: requestedThreads ?? coresPerLocalRank())
        }
        // Rank 0 reads and checks the maps.
        var inputs: (map: Volume, modelMap: Volume, mask: Volume?, halves: (Volume, Volume)?, model: AtomicModel?)?
        var failure: Error?
        if comm.isRoot {
            do {
                func read(_ path: String) throws -> NamedVolume { try readMap(path, logger: logger) }
                let map = try read(mapPath)
                let modelMap = try simulated.map { NamedVolume(path: modelPath!, volume: $0) } ?? read(modelMapPath!)
                let mask = try maskPath.map(read)
                let halves = try halfMapPaths.map(read)
                for other in [modelMap] + (mask.map { [$0] } ?? []) + halves {
                    try ScalingInputs.checkSameGrid(other, as: map)
                }
                for volume in [map, modelMap] + (mask.map { [$0] } ?? []) + halves {
                    try ScalingInputs.checkFinite(volume)
                }
                let model = try modelPath.map {
                    try AtomicModel.read(path: $0, modelNumber: modelOptions.modelNumber, unknownElementAs: modelOptions.unknownElementAs)
                }
                inputs = (map.volume, modelMap.volume, mask?.volume,
                          halves.count == 2 ? (halves[0].volume, halves[1].volume) : nil, model)
            } catch { failure = error }
        }
        try agree(on: failure, comm: comm)

        // The Fourier comparisons, every rank taking part.
        let fourier = try DistributedShellSums(comm: comm, grid: grid)
        var sums: [ShellSums] = []
        for request in MapValidation.requests(masked: maskPath != nil, halves: halfMapPaths.count == 2) {
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
        failure = nil
        if let inputs {
            let validation = MapValidation(name: "map", map: inputs.map, modelMap: inputs.modelMap, mask: inputs.mask,
                                           halfMaps: inputs.halves != nil, model: inputs.model,
                                           resolution: modelOptions.resolution, guinierFrom: guinierFrom, sums: sums)
            validation.lines.forEach { print($0) }
            if let reportDirectory {
                let parameters = [("map", mapPath), ("model", modelPath ?? modelMapPath!), ("mask", maskPath ?? "none"),
                                  ("half maps", halfMapPaths.isEmpty ? "none" : halfMapPaths.joined(separator: ", ")),
                                  ("ranks", "\(comm.size)"), ("version", "localscale \(LocalScaleCommand.version)")]
                do {
                    let outputs = OutputFiles()
                    try ValidationReport(validations: [validation], parameters: parameters)
                        .write(to: reportDirectory, in: outputs)
                    try outputs.commit()
                    logger.info("wrote \(reportDirectory)/report.html and summary.json")
                } catch { failure = error }
            }
        }
        try agree(on: failure, comm: comm)
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
