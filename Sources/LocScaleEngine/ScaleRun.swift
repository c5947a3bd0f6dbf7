import Foundation
import LocScaleCore
import LocScaleParallel
import Logging
import LocScaleHDF5

/// What a scaling run measured, on every rank.
public struct ScaleSummary: Sendable {
    /// Every rank's phase seconds, planes and voxels.
    public let table: TimingTable
    /// max/mean of the work per rank: masked voxels (exact mode) or grid planes (fast mode).
    public let workImbalance: Double
    /// Seconds from the start of the run to the end of the last write.
    public let totalSeconds: Double
}

/// A scale job the engine cannot run as described (the command line refuses these earlier).
public struct ScaleJobError: Error, CustomStringConvertible {
    public let description: String
}

/// `scale` on any number of MPI ranks (one without `mpirun`): rank 0 reads and checks the
/// inputs, the z-planes are split into slabs with equal masked voxels, slabs are scattered and
/// halos exchanged, every rank scales its own slab with its threads, and the slabs are gathered
/// to rank 0, which writes the outputs. Collective: every rank of `communicator` calls `run()`.
public struct ScaleRun {
    let job: ScaleJob
    let comm: Communicator
    let logger: Logger
    /// The mask the run computed, when `job.mask` names the file it was written to.
    var automaticMask: AutomaticMask?

    public init(job: ScaleJob, communicator: Communicator, logger: Logger) {
        self.job = job
        self.comm = communicator
        self.logger = logger
    }

    /// Rank 0 only: the inputs and what follows from them.
    private struct RootInputs {
        let inputs: ScalingInputs
        let voxels: [Int]
        let setup: RunSetup
        let hadWisdom: Bool
    }

    /// Runs the job. A failure rank 0 finds reaches every rank as an `AgreedFailure`.
    public func run() throws -> ScaleSummary {
        if case .automatic(let fdr) = job.mask { return try runWithAutomaticMask(fdr: fdr) }
        let clock = PhaseClock()
        let outputs = OutputFiles()

        // With an atomic model, all ranks simulate the model map on the grid of the map first.
        var simulated: Volume?
        if let (path, options) = job.model.atoms {
            let simulation = DistributedSimulation(comm: comm, logger: logger)
            let grid = try simulation.sharedGrid(of: job.experimental.path)
            simulated = try simulation.modelMap(of: path, options: options, grid: grid, threads: job.threads)
        }

        // Rank 0 reads and checks; an error is broadcast so that every rank exits 1 with it.
        var root = try comm.rootTries { try readInputs(simulatedModel: simulated, outputs: outputs) }
        simulated = nil
        let setup = try JSONDecoder().decode(RunSetup.self, from: Data(
            comm.broadcast(Array(try root.map { try JSONEncoder().encode($0.setup) } ?? Data()))))
        if !comm.isRoot { FFTW.importWisdom(text: setup.wisdom) }
        clock.end(.read)

        // Rank 0 keeps only the geometry once the maps are handed out.
        let grid = root?.inputs.experimental.volume.grid
        let hadWisdom = root?.hadWisdom ?? false
        // With a report, rank 0 keeps the input maps to compare input and output at the end.
        let reportInputs = job.outputs.reportDirectory == nil ? nil : root.map {
            ($0.inputs.experimental.volume, $0.inputs.model.volume, $0.inputs.mask?.volume)
        }
        var whole = WholeMaps(experimental: root?.inputs.experimental.volume.values ?? [],
                              model: root?.inputs.model.volume.values ?? [], voxels: root?.voxels ?? [])
        root = nil
        setup.normalisation.normaliseExperimental(&whole.experimental)
        setup.normalisation.normaliseModel(&whole.model)
        var (gathered, workImbalance) = switch setup.method {
        case .exact: try scaleExact(&whole, setup: setup, clock: clock)
        case .fast(let plan): try scaleFast(&whole, setup: setup, plan: plan, clock: clock)
        }
        // Back to the model map's scale; a non-finite voxel stops the run before anything is written.
        try comm.rootTries { if let grid { try setup.normalisation.restore(&gathered, shape: grid.shape) } }
        // Rank 0 writes every output under its temporary name; they are renamed into place
        // together only when all are complete, so a late failure leaves the old outputs alone
        // (`outputs`, dropped uncommitted when the run throws, removes what it wrote).
        let output = grid.map { Volume(grid: $0, values: gathered) }
        let hdf5 = try comm.rootTries {
            try output.map { try writeMaps($0, setup: setup, in: outputs) } ?? nil
        } ?? nil
        clock.end(.write)
        let table = TimingTable(rows: try comm.allGather(clock.timings.row), ranks: comm.size)
        try comm.rootTries {
            if let hdf5 {
                try automaticMask?.writeDataset(to: hdf5)
                try table.write(to: hdf5)
                try writeProvenance(to: hdf5)
                try hdf5.close()
            }
            if let path = job.outputs.timingsJSON {
                try table.writeJSON(to: path, threads: job.threads, in: outputs)
            }
            if let directory = job.outputs.reportDirectory, let (experimental, model, mask) = reportInputs,
               let output {
                try writeReport(to: directory, input: experimental, output: output, modelMap: model, mask: mask,
                                setup: setup, timings: table.text, in: outputs)
            }
            try outputs.commit()
            for stale in outputs.removedStaleFiles {
                logger.notice("removed \(stale), left by a run that no longer exists")
            }
            job.wisdom.save(logger: logger, hadWisdom: hadWisdom)
        }
        return ScaleSummary(table: table, workImbalance: workImbalance, totalSeconds: Communicator.time - clock.started)
    }

    /// Rank 0: the MRC map and the HDF5 file's `/map` (the file stays open for `/timing`).
    private func writeMaps(_ volume: Volume, setup: RunSetup, in outputs: OutputFiles) throws -> HDF5Writer? {
        if let path = job.outputs.map {
            try MRCFile.write(volume, to: path, labels: job.provenance.labels, in: outputs)
        }
        guard let path = job.outputs.hdf5 else { return nil }
        let hdf5 = try HDF5Writer(temporary: outputs.temporaryPath(for: path), for: path)
        try writeMap(volume, setup: setup, to: hdf5)
        return hdf5
    }

    /// The validation of the input and the output side by side (the report folder).
    private func writeReport(to directory: String, input: Volume, output: Volume, modelMap: Volume, mask: Volume?,
                             setup: RunSetup, timings: String, in outputs: OutputFiles) throws {
        var halfMaps: (Volume, Volume)?
        if case .halfMaps(let first, let second) = job.experimental {
            halfMaps = (try MRCFile.read(path: first).volume, try MRCFile.read(path: second).volume)
        }
        let atoms = job.model.atoms
        let model = try atoms.map { try $0.options.read($0.path) }
        let resolution = atoms?.options.resolution
        let before = MapValidation(name: "input", map: input, modelMap: modelMap, mask: mask, halfMaps: halfMaps != nil,
                                   model: model, resolution: resolution,
                                   sums: MapValidation.sums(masked: mask, halves: halfMaps, map: input, modelMap: modelMap))
        let after = MapValidation(name: "output", map: output, modelMap: modelMap, mask: mask, halfMaps: false,
                                  model: model, resolution: resolution ?? before.halfMapFSC?.resolution(at: 0.143),
                                  sums: MapValidation.sums(masked: mask, halves: nil, map: output, modelMap: modelMap))
        let experimental = switch job.experimental {
        case .map(let path): path
        case .halfMaps(let first, let second): "average of \(first) and \(second)"
        }
        let parameters: [(String, String)] = [
            ("experimental map", experimental), ("model", job.model.path), ("mask", maskName),
            ("window", "\(setup.window) voxels"), ("rule", setup.rule.reportName),
            ("ranks × threads", "\(comm.size) × \(job.threads)"),
            ("command line", job.provenance.commandLine.joined(separator: " ")), ("version", job.provenance.build)]
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
        let (rule, padFactor) = switch setup.rule {
        case .exact(let padFactor): ("exact", padFactor)
        case .locscale2: ("locscale2", Double.nan)
        }
        try file.setAttribute("pad_factor", [padFactor], on: "/map")
        let resolution = job.model.atoms.map { $0.options.resolution ?? 2 * volume.grid.voxelSize.array.max()! }
        try file.setAttribute("resolution", [resolution ?? .nan], on: "/map")
        try file.setAttribute("rule", rule, on: "/map")
        try file.setAttribute("method", setup.method.method.rawValue, on: "/map")
        try file.setAttribute("layout", "(z, y, x), x fastest; voxel_size, origin (Å) and nstart in x, y, z order", on: "/map")
    }

    /// `/provenance`: version, command line, inputs with their sizes in bytes, ranks and threads.
    private func writeProvenance(to file: HDF5Writer) throws {
        try file.group("/provenance")
        try file.setAttribute("version", job.provenance.build, on: "/provenance")
        try file.setAttribute("command_line", job.provenance.commandLine.joined(separator: " "), on: "/provenance")
        let inputs = job.experimental.paths + [job.model.path] + (givenMaskFile.map { [$0] } ?? [])
        let sizes = inputs.map { ((try? FileManager.default.attributesOfItem(atPath: $0)[.size]) as? Int) ?? -1 }
        try file.setAttribute("inputs", zip(inputs, sizes).map { "\($0) (\($1) bytes)" }.joined(separator: "; "), on: "/provenance")
        try file.setAttribute("ranks", [Double(comm.size)], on: "/provenance")
        try file.setAttribute("threads_per_rank", [Double(job.threads)], on: "/provenance")
        try file.setAttribute("date", ISO8601DateFormatter().string(from: Date()), on: "/provenance")
    }

    /// Rank 0: reads and checks the three maps, chooses the window, lists the voxels to scale,
    /// and makes the FFT plans (from the wisdom file when there is one). The simulated model map
    /// (`savedModelMap`) joins `outputs`.
    private func readInputs(simulatedModel: Volume?, outputs: OutputFiles) throws -> RootInputs {
        for output in job.outputs.named {
            try OutputFiles.checkWritable(output.path, mayCreateFolder: output.option == "--report")
        }
        let experimental: NamedVolume
        switch job.experimental {
        case .halfMaps(let firstPath, let secondPath):
            let first = try readMap(firstPath, logger: logger), second = try readMap(secondPath, logger: logger)
            try ScalingInputs.checkSameGrid(second, as: first)
            let average = zip(first.volume.values, second.volume.values).map { 0.5 * ($0 + $1) }
            experimental = NamedVolume(path: first.path, volume: Volume(grid: first.volume.grid, values: average))
            logger.info("experimental map: the average of \(firstPath) and \(secondPath)")
        case .map(let path):
            experimental = try readMap(path, logger: logger)
        }
        let model: NamedVolume
        switch job.model {
        case .map(let path):
            model = try readMap(path, logger: logger)
        case .atoms(let path, _):
            guard let map = simulatedModel else { throw ScaleJobError(description: "\(path): no model map simulated") }
            if let saved = job.outputs.savedModelMap {
                try MRCFile.write(map, to: saved, labels: ["localscale \(job.provenance.version): model map of \(path)"],
                                  in: outputs)
            }
            model = NamedVolume(path: path, volume: map)
        }
        let mask = try job.mask.file.map { try readMap($0, logger: logger) }
        let grid = experimental.volume.grid
        let rule = job.rule
        var w = job.window ?? defaultWindow(meanVoxelSize: grid.meanVoxelSize)
        if rule == .locscale2 && w % 2 == 1 {
            logger.notice("--compat locscale2 rounds the window up to even: \(w) → \(w + 1) voxels")
            w += 1
        }
        let sizes = grid.voxelSize.array
        if sizes.max()! > sizes.min()! * 1.001 {
            let sizeText = sizes.map { formatDecimal($0) }.joined(separator: " × ")
            logger.warning("""
                \(job.experimental.path): voxel sizes differ per axis (\(sizeText) Å); \
                the window is \(w) voxels along each
                """)
        }
        let inputs = try ScalingInputs(experimental: experimental, model: model, mask: mask, window: w,
                                       windowIsDefault: job.window == nil)
        try MapNormalisation.checkRange(of: model, window: w)
        let normalisation = MapNormalisation(experimental: experimental.volume.values, model: model.volume.values)
        let voxels = LocalScaling.voxelsToScale(inputs, window: w, rule: rule)
        let layout = SpectrumLayout(window: w, rule: rule)
        var planeCounts = [Int](repeating: 0, count: grid.shape.z)
        for i in voxels { planeCounts[i / (grid.shape.x * grid.shape.y)] += 1 }

        let hadWisdom = job.wisdom.load(logger: logger)
        let method: MethodPlan
        let methodText: String
        switch (job.method, rule) {
        case (.exact, _):
            method = .exact
            _ = CubeFFT(padded: layout.padded, filled: w, planning: job.planning)
            methodText = "FFT box \(layout.padded)³"
        case (.fast, .exact(let padFactor)):
            let box = FastBox(voxels: voxels, shape: grid.shape, window: w)
            method = .fast(FastPlan(box: box, padFactor: padFactor, exactShells: job.fastExactShells))
            let shells = job.fastExactShells < 0 ? "every shell estimated" : "exact powers of shells 0…\(job.fastExactShells)"
            methodText = "fast method on a \(box.size.x)×\(box.size.y)×\(box.size.z) grid, \(layout.binCount) shells, \(shells)"
        case (.fast, .locscale2):
            throw ScaleJobError(description: "the fast method estimates exact mode; it cannot follow the locscale2 rule")
        }
        let setup = RunSetup(shape: grid.shape, window: w, rule: rule, planeCounts: planeCounts,
                             experimentalOutside: normalisation.normalisedExperimental(
                                inputs.meanOutsideMask(experimental.volume)).bitPattern,
                             modelOutside: normalisation.normalisedModel(inputs.meanOutsideMask(model.volume)).bitPattern,
                             wisdom: FFTW.exportWisdom(), method: method, normalisation: normalisation)
        let ruleText = switch rule {
        case .exact(let padFactor): "pad factor \(formatDecimal(padFactor))"
        case .locscale2: "locscale2 rules"
        }
        let windowÅ = formatDecimal(Double(w) * grid.meanVoxelSize, digits: 1)
        logger.info("""
            scaling \(voxels.count) voxels: window \(w) voxels (\(windowÅ) Å), \(methodText), \(ruleText), \
            \(comm.size) rank(s) × \(job.threads) thread(s)
            """)
        return RootInputs(inputs: inputs, voxels: voxels, setup: setup, hadWisdom: hadWisdom)
    }

    /// Test hook for the fault test: this rank dies here, mid-run, as a crashed node would.
    func killForFaultTest() {
        if ProcessInfo.processInfo.environment["LOCALSCALE_TEST_KILL_RANK"] == "\(comm.rank)" {
            FileHandle.standardError.write(Data("localscale: rank \(comm.rank) exits (LOCALSCALE_TEST_KILL_RANK)\n".utf8))
            exit(9)
        }
    }
}

extension ScalingRule {
    /// The rule as the report names it: "exact, pad factor 2" or "locscale2".
    var reportName: String {
        switch self {
        case .exact(let padFactor): "exact, pad factor \(formatDecimal(padFactor))"
        case .locscale2: "locscale2"
        }
    }
}

extension ScaleJob {
    /// The job's FFTW wisdom file.
    var wisdom: WisdomFile { WisdomFile(path: wisdomFile, planning: planning) }
}

/// FFTW wisdom read before planning and saved after a run, so that runs sharing it give
/// bitwise identical maps.
struct WisdomFile {
    /// nil: plan afresh each run.
    let path: String?
    let planning: FFTPlanning

    /// Loads the wisdom file, if any; true when it held plans.
    func load(logger: Logger) -> Bool {
        guard let path else { return false }
        let loaded = FFTW.importWisdom(from: path)
        if !loaded && FileManager.default.fileExists(atPath: path) {
            logger.warning("""
                \(path) is not FFTW wisdom this build can read; planning afresh (outputs may differ from \
                earlier runs in the last bit)
                """)
        }
        return loaded
    }

    /// Saves the plans to the wisdom file, if any (a failure only warns).
    func save(logger: Logger, hadWisdom: Bool) {
        guard let path else { return }
        do { try FFTW.exportWisdom(to: path) } catch { logger.warning("\(error)") }
        logger.info("FFTW plans (\(planning.rawValue)) \(hadWisdom ? "from" : "saved to") \(path)")
    }
}
