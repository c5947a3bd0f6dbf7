import Foundation
import LocScaleCore
import LocScaleParallel
import Logging
import LocScaleHDF5

/// What rank 0 learns from the inputs and every rank needs: the box, the rules, the work per
/// plane, the extension values, and rank 0's FFT plans (so that every rank computes with the
/// same algorithms and an N-rank map equals the 1-rank map bit for bit).
struct RunSetup: Codable {
    var shape: [Int]
    var window: Int
    var padFactor: Double?
    var planeCounts: [Int]
    /// Float bit patterns, so that the values arrive exactly.
    var experimentalOutside: UInt32
    var modelOutside: UInt32
    var wisdom: String
    var method: ScalingMethod
    /// Fast mode: highest shell with exact powers, and the grid's placement (x, y, z).
    var exactShells: Int
    var fastStart: [Int]?
    var fastSize: [Int]?
    /// The powers of two the maps are computed at (the outside values above are already scaled).
    var normalisation: MapNormalisation

    var rule: ScalingRule { padFactor.map { .exact(padFactor: $0) } ?? .locscale2 }
}

/// A failure every rank knows of (rank 0 broadcast it): rank 0 carries the error itself.
struct AgreedFailure: Error {
    let error: Error?
}

/// Thrown once a failure has been reported: exit 1 without another message.
struct ReportedOnRankZero: Error {}

/// Seconds per phase of this rank's run, as phases end.
final class PhaseClock {
    var timings = RankTimings()
    let started = Communicator.time
    private lazy var phaseStart = started

    /// Ends phase `index` (of `RankTimings.phases`) now.
    func end(_ index: Int) {
        let now = Communicator.time
        timings.seconds[index] = now - phaseStart
        phaseStart = now
    }
}

/// Rank 0's whole maps and voxel list while they are handed out (empty on other ranks); each
/// method releases them as soon as its copies exist.
struct WholeMaps {
    var experimental: [Float]
    var model: [Float]
    var voxels: [Int]
}

/// `localscale scale` on any number of MPI ranks (one without `mpirun`): rank 0 reads and checks
/// the inputs, the z-planes are split into slabs with equal masked voxels, slabs are scattered
/// and halos exchanged, every rank scales its own slab with its threads, and the slabs are
/// gathered to rank 0, which writes the map and prints the per-rank timings.
struct DistributedScaling {
    let command: ScaleCommand
    let comm: Communicator
    let logger: Logger

    /// Rank 0 only: the inputs and what follows from them.
    private struct RootInputs {
        let inputs: ScalingInputs
        let voxels: [Int]
        let setup: RunSetup
        let hadWisdom: Bool
    }

    func run() throws {
        let clock = PhaseClock()
        let started = clock.started
        let outputs = OutputFiles()

        // With --model, all ranks simulate the model map on the grid of --em first.
        var simulated: Volume?
        if let modelPath = command.modelPath {
            let simulation = DistributedSimulation(comm: comm, logger: logger)
            let grid = try simulation.sharedGrid(of: command.inputs.experimentalPath)
            simulated = try simulation.modelMap(of: modelPath, options: command.modelOptions, grid: grid,
                                                threads: command.threads)
        }

        // Rank 0 reads and checks; an error is broadcast so that every rank exits 1 with it.
        var root: RootInputs?
        var failure: Error?
        if comm.isRoot {
            do { root = try readInputs(simulatedModel: simulated, outputs: outputs) } catch { failure = error }
        }
        simulated = nil
        try agree(on: failure)
        let setup = try JSONDecoder().decode(RunSetup.self, from: Data(
            comm.broadcast(comm.isRoot ? Array(try JSONEncoder().encode(root!.setup)) : [])))
        if !comm.isRoot { FFTW.importWisdom(text: setup.wisdom) }
        clock.end(0)

        // Rank 0 keeps only the geometry once the maps are handed out.
        let grid = root?.inputs.experimental.volume.grid
        let hadWisdom = root?.hadWisdom ?? false
        // With --report, rank 0 keeps the input maps to compare input and output at the end.
        let reportInputs = command.outputs.reportDirectory == nil ? nil : root.map { ($0.inputs.experimental.volume, $0.inputs.model.volume, $0.inputs.mask?.volume) }
        var whole = WholeMaps(experimental: root?.inputs.experimental.volume.values ?? [],
                              model: root?.inputs.model.volume.values ?? [], voxels: root?.voxels ?? [])
        root = nil
        setup.normalisation.normaliseExperimental(&whole.experimental)
        setup.normalisation.normaliseModel(&whole.model)
        var (gathered, workImbalance) = switch setup.method {
        case .exact: try scaleExact(&whole, setup: setup, clock: clock)
        case .fast: try scaleFast(&whole, setup: setup, clock: clock)
        }
        // Back to the model map's scale; a non-finite voxel stops the run before anything is written.
        if let grid {
            do { try setup.normalisation.restore(&gathered, shape: grid.shape) } catch { failure = error }
        }
        try agree(on: failure)
        // Rank 0 writes every output under its temporary name; they are renamed into place
        // together only when all are complete, so a late failure leaves the old outputs alone.
        failure = nil
        var hdf5: HDF5Writer?
        if let grid {
            do {
                let volume = Volume(grid: grid, values: gathered)
                if let path = command.outputs.outputPath {
                    try MRCFile.write(volume, to: path, labels: command.provenanceLabels(), in: outputs)
                }
                if let path = command.outputs.hdf5Path {
                    hdf5 = try HDF5Writer(temporary: outputs.temporaryPath(for: path), for: path)
                    try writeMap(volume, setup: setup, to: hdf5!)
                }
            } catch { failure = error }
        }
        clock.end(5)
        let table = TimingTable(rows: try comm.allGather(clock.timings.row), ranks: comm.size)
        if comm.isRoot && failure == nil {
            do {
                if let hdf5 {
                    try table.write(to: hdf5)
                    try writeProvenance(to: hdf5)
                    try hdf5.close()
                }
                if let path = command.outputs.timingsPath {
                    try table.writeJSON(to: path, threads: command.threads, in: outputs)
                }
                if let directory = command.outputs.reportDirectory, let (experimental, model, mask) = reportInputs {
                    try writeReport(to: directory, input: experimental, output: Volume(grid: grid!, values: gathered),
                                    modelMap: model, mask: mask, setup: setup, timings: table.text, in: outputs)
                }
                try outputs.commit()
                for stale in outputs.removedStaleFiles {
                    logger.notice("removed \(stale), left by a run that no longer exists")
                }
                command.performance.saveWisdom(logger: logger, hadWisdom: hadWisdom)
            } catch { failure = error }
        }
        if failure != nil { outputs.discard() }
        try agree(on: failure)
        if comm.isRoot {
            report(table, workImbalance: workImbalance, total: Communicator.time - started)
        }
    }

    /// The validation of the input and the output side by side (`--report`).
    private func writeReport(to directory: String, input: Volume, output: Volume, modelMap: Volume, mask: Volume?,
                             setup: RunSetup, timings: String, in outputs: OutputFiles) throws {
        let halves = try command.inputs.halfMapPaths.map { try MRCFile.read(path: $0).volume }
        let model = try command.modelPath.map {
            try AtomicModel.read(path: $0, modelNumber: command.modelOptions.modelNumber,
                                 unknownElementAs: command.modelOptions.unknownElementAs)
        }
        let resolution = command.modelOptions.resolution
        let halfMaps = halves.count == 2 ? (halves[0], halves[1]) : nil
        let before = MapValidation(name: "input", map: input, modelMap: modelMap, mask: mask, halfMaps: halfMaps != nil,
                                   model: model, resolution: resolution,
                                   sums: MapValidation.sums(masked: mask, halves: halfMaps, map: input, modelMap: modelMap))
        let after = MapValidation(name: "output", map: output, modelMap: modelMap, mask: mask, halfMaps: false,
                                  model: model, resolution: resolution ?? before.halfMapFSC?.resolution(at: 0.143),
                                  sums: MapValidation.sums(masked: mask, halves: nil, map: output, modelMap: modelMap))
        let parameters: [(String, String)] = [
            ("experimental map", command.inputs.halfMapPaths.isEmpty ? command.inputs.experimentalPath : "average of " + command.inputs.halfMapPaths.joined(separator: " and ")),
            ("model", command.modelMapPath ?? command.modelPath!), ("mask", command.inputs.maskPath ?? "none"),
            ("window", "\(setup.window) voxels"), ("rule", setup.padFactor.map { "exact, pad factor \(formatDecimal($0))" } ?? "locscale2"),
            ("ranks × threads", "\(comm.size) × \(command.threads)"), ("command line", CommandLine.arguments.joined(separator: " ")),
            ("version", BuildInfo.provenance)]
        try ValidationReport(validations: [before, after], parameters: parameters, timings: timings)
            .write(to: directory, in: outputs)
        (before.lines + after.lines).forEach { logger.info("\($0)") }
    }

    /// `/map` and its geometry attributes.
    private func writeMap(_ volume: Volume, setup: RunSetup, to file: HDF5Writer) throws {
        let s = volume.grid.shape
        try file.write(volume.values, to: "/map", dims: [s.z, s.y, s.x], chunk: [min(s.z, 16), s.y, s.x])
        try file.setAttribute("voxel_size", volume.grid.voxelSize.array, on: "/map")
        try file.setAttribute("origin", volume.grid.origin.array, on: "/map")
        try file.setAttribute("nstart", volume.grid.start.array.map(Double.init), on: "/map")
        try file.setAttribute("window", [Double(setup.window)], on: "/map")
        try file.setAttribute("pad_factor", [setup.padFactor ?? .nan], on: "/map")
        try file.setAttribute("resolution", [command.modelPath != nil ? (command.modelOptions.resolution ?? 2 * volume.grid.voxelSize.array.max()!) : .nan], on: "/map")
        try file.setAttribute("rule", setup.padFactor == nil ? "locscale2" : "exact", on: "/map")
        try file.setAttribute("method", setup.method.rawValue, on: "/map")
        try file.setAttribute("layout", "(z, y, x), x fastest; voxel_size, origin (Å) and nstart in x, y, z order", on: "/map")
    }

    /// `/provenance`: version, command line, inputs with their sizes in bytes, ranks and threads.
    private func writeProvenance(to file: HDF5Writer) throws {
        try file.group("/provenance")
        try file.setAttribute("version", BuildInfo.provenance, on: "/provenance")
        try file.setAttribute("command_line", CommandLine.arguments.joined(separator: " "), on: "/provenance")
        let inputs = (command.inputs.halfMapPaths.isEmpty ? [command.inputs.experimentalPath] : command.inputs.halfMapPaths)
            + [command.modelMapPath ?? command.modelPath!] + (command.inputs.maskPath.map { [$0] } ?? [])
        let sizes = inputs.map { ((try? FileManager.default.attributesOfItem(atPath: $0)[.size]) as? Int) ?? -1 }
        try file.setAttribute("inputs", zip(inputs, sizes).map { "\($0) (\($1) bytes)" }.joined(separator: "; "), on: "/provenance")
        try file.setAttribute("ranks", [Double(comm.size)], on: "/provenance")
        try file.setAttribute("threads_per_rank", [Double(command.threads)], on: "/provenance")
        try file.setAttribute("date", ISO8601DateFormatter().string(from: Date()), on: "/provenance")
    }

    /// Rank 0's `failure` on every rank, as an `AgreedFailure`; nothing when rank 0 had none.
    private func agree(on failure: Error?) throws {
        try localscale.agree(on: failure, comm: comm)
    }

    /// Rank 0: reads and checks the three maps, chooses the window, lists the voxels to scale,
    /// and makes the FFT plans (from the wisdom file when there is one). The simulated model map
    /// (`--save-model-map`) joins `outputs`.
    private func readInputs(simulatedModel: Volume?, outputs: OutputFiles) throws -> RootInputs {
        for output in command.outputs.paths {
            try OutputFiles.checkWritable(output.path, mayCreateFolder: output.option == "--report")
        }
        let experimental: NamedVolume
        if command.inputs.halfMapPaths.count == 2 {
            let first = try command.read(command.inputs.halfMapPaths[0]), second = try command.read(command.inputs.halfMapPaths[1])
            try ScalingInputs.checkSameGrid(second, as: first)
            let average = zip(first.volume.values, second.volume.values).map { 0.5 * ($0 + $1) }
            experimental = NamedVolume(path: first.path, volume: Volume(grid: first.volume.grid, values: average))
            logger.info("experimental map: the average of \(command.inputs.halfMapPaths.joined(separator: " and "))")
        } else {
            experimental = try command.read(command.inputs.experimentalPath)
        }
        let model: NamedVolume
        if let path = command.modelMapPath {
            model = try command.read(path)
        } else {
            let path = command.modelPath!
            let map = simulatedModel!
            if let saved = command.outputs.savedModelMapPath {
                try MRCFile.write(map, to: saved, labels: ["localscale \(LocalScaleCommand.version): model map of \(path)"],
                                  in: outputs)
            }
            model = NamedVolume(path: path, volume: map)
        }
        let mask = try command.inputs.maskPath.map(command.read)
        let grid = experimental.volume.grid
        let rule: ScalingRule = command.scaling.compat == .locscale2 ? .locscale2 : .exact(padFactor: command.scaling.padFactor)
        var w = command.scaling.window ?? defaultWindow(meanVoxelSize: grid.meanVoxelSize)
        if rule == .locscale2 && w % 2 == 1 {
            logger.notice("--compat locscale2 rounds the window up to even: \(w) → \(w + 1) voxels")
            w += 1
        }
        let sizes = grid.voxelSize.array
        if sizes.max()! > sizes.min()! * 1.001 {
            logger.warning("\(command.inputs.experimentalPath): voxel sizes differ per axis (\(sizes.map { formatDecimal($0) }.joined(separator: " × ")) Å); the window is \(w) voxels along each")
        }
        if mask == nil { logger.warning("no --mask given: every voxel is scaled") }
        let inputs = try ScalingInputs(experimental: experimental, model: model, mask: mask, window: w,
                                       windowIsDefault: command.scaling.window == nil)
        try MapNormalisation.checkRange(of: model, window: w)
        let normalisation = MapNormalisation(experimental: experimental.volume.values, model: model.volume.values)
        let voxels = LocalScaling.voxelsToScale(inputs, window: w, rule: rule)
        let layout = SpectrumLayout(window: w, rule: rule)
        var planeCounts = [Int](repeating: 0, count: grid.shape.z)
        for i in voxels { planeCounts[i / (grid.shape.x * grid.shape.y)] += 1 }

        let hadWisdom = command.performance.loadWisdom(logger: logger)
        let fastBox = command.scaling.method == .fast ? FastBox(voxels: voxels, shape: grid.shape, window: w) : nil
        if fastBox == nil { _ = CubeFFT(padded: layout.padded, filled: w, planning: command.performance.planning) }
        var padFactor: Double?
        if case .exact(let factor) = rule { padFactor = factor }
        let setup = RunSetup(shape: grid.shape.array, window: w, padFactor: padFactor, planeCounts: planeCounts,
                             experimentalOutside: normalisation.normalisedExperimental(
                                inputs.meanOutsideMask(experimental.volume)).bitPattern,
                             modelOutside: normalisation.normalisedModel(inputs.meanOutsideMask(model.volume)).bitPattern,
                             wisdom: FFTW.exportWisdom(), method: command.scaling.method,
                             exactShells: command.scaling.fastExactShells,
                             fastStart: fastBox?.start.array, fastSize: fastBox?.size.array,
                             normalisation: normalisation)
        let method = fastBox.map { "fast method on a \($0.size.x)×\($0.size.y)×\($0.size.z) grid, \(layout.binCount) shells, \(command.scaling.fastExactShells < 0 ? "every shell estimated" : "exact powers of shells 0…\(command.scaling.fastExactShells)")" }
            ?? "FFT box \(layout.padded)³"
        logger.info("scaling \(voxels.count) voxels: window \(w) voxels (\(formatDecimal(Double(w) * grid.meanVoxelSize, digits: 1)) Å), \(method), \(rule == .locscale2 ? "locscale2 rules" : "pad factor \(formatDecimal(command.scaling.padFactor))"), \(comm.size) rank(s) × \(command.threads) thread(s)")
        return RootInputs(inputs: inputs, voxels: voxels, setup: setup, hadWisdom: hadWisdom)
    }

    /// Test hook for the fault test: this rank dies here, mid-run, as a crashed node would.
    func killForFaultTest() {
        if ProcessInfo.processInfo.environment["LOCALSCALE_TEST_KILL_RANK"] == "\(comm.rank)" {
            FileHandle.standardError.write(Data("localscale: rank \(comm.rank) exits (LOCALSCALE_TEST_KILL_RANK)\n".utf8))
            exit(9)
        }
    }

    /// Rank 0: the per-rank timing table and the summary line.
    private func report(_ table: TimingTable, workImbalance: Double, total: Double) {
        if comm.size > 1 {
            logger.info("per-rank seconds:\n\(table.text)\nwork imbalance (max/mean \(command.scaling.method == .fast ? "planes" : "masked voxels")) \(formatDecimal(workImbalance, digits: 3))")
        }
        let computeWall = table.compute.max() ?? 0
        let rate = Double(table.voxels) / max(computeWall, 1e-9)
        let coreMicroseconds = table.compute.reduce(0, +) * Double(command.threads) / Double(max(table.voxels, 1)) * 1e6
        let outputs = [command.outputs.outputPath, command.outputs.hdf5Path].compactMap { $0 }.joined(separator: " and ")
        logger.info("scaled \(table.voxels) voxels in \(formatDecimal(computeWall, digits: 2)) s (\(Int(rate)) voxels/s, \(formatDecimal(coreMicroseconds, digits: 1)) core-µs/voxel); total \(formatDecimal(total, digits: 2)) s; wrote \(outputs)")
    }
}
