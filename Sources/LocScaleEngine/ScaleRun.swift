import Foundation
import LocScaleCore
import LocScaleParallel
import Logging

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

/// `scale` on any number of MPI ranks (one without `mpirun`), no rank ever holding a whole map:
/// rank 0 reads and checks the headers, every rank counts the voxels to scale in its share of
/// the mask's planes, the z-planes are split into slabs with equal masked voxels, every rank reads
/// its slab and the halo its windows reach straight from the files, scales its voxels with its
/// threads, and writes its planes of the output (MPI-IO). Collective: every rank of `communicator`
/// calls `run()`.
public struct ScaleRun {
    let job: ScaleJob
    let comm: Communicator
    let logger: Logger
    /// The mask the run computed, when `job.mask` names the file it was written to.
    var automaticMask: AutomaticMask?
    /// Where the automatic mask's run puts the outputs (`--mask-out` already in it), committed
    /// together at the end; nil: a new set for each `run()`.
    var sharedOutputs: OutputFiles?

    public init(job: ScaleJob, communicator: Communicator, logger: Logger) {
        self.job = job
        self.comm = communicator
        self.logger = logger
    }

    /// Runs the job. A failure any rank finds reaches every rank as an `AgreedFailure`.
    public func run() throws -> ScaleSummary {
        if case .automatic(let fdr) = job.mask { return try runWithAutomaticMask(fdr: fdr) }
        return try run(into: sinks())
    }

    /// Runs the job with `sinks` as its outputs (`sinks()`: the job's), written in their order.
    func run(into sinks: [any ScaleOutput]) throws -> ScaleSummary {
        let clock = PhaseClock()
        let outputs = sharedOutputs ?? OutputFiles()

        // Headers (rank 0), then the voxels to scale per plane (every rank its share of the mask).
        let files = try InputFiles.open(job, communicator: comm, logger: logger)
        var simulated: PlaneSlabs?
        if let (path, options) = job.model.atoms {
            simulated = try simulateModel(path, options: options, grid: files.grid, outputs: outputs, clock: clock)
        }
        let (selection, maskBytes) = try files.selectVoxels(rule: job.rule, communicator: comm)
        clock.timings.bytesRead += maskBytes
        let (setup, hadWisdom, plannedLine) = try plan(files, selection: selection)

        // This rank's planes of the maps, read; then its voxels scaled.
        let method = try MethodSlabs(setup: setup, communicator: comm, planning: job.planning, threads: job.threads)
            .holding(localBPlanes(setup: setup, grid: files.grid), depth: setup.shape.z)
        let planes = method.planes(of: comm.rank)
        var maps = try SlabMaps(files, simulated: simulated, planes: planes, job: job, communicator: comm)
        simulated = nil
        clock.timings.bytesRead += maps.bytesRead
        if let plannedLine { logger.info("\(plannedLine)") }
        clock.end(.read)
        let localB = try localBMap(maps, files: files, planes: planes, selection: selection, window: setup.window)
        var (values, workImbalance) = switch method {
        case .exact(let plan): try scaleExact(&maps, selection: selection, setup: setup, plan: plan, clock: clock)
        case .fast(let plan, let slabs):
            try scaleFast(&maps, selection: selection, setup: setup, plan: plan, slabs: slabs, clock: clock)
        }
        localB?.count(in: clock, fast: setup.method.method == .fast)
        // Back to the model map's scale; a non-finite voxel stops the run before anything is written.
        let normalisation = maps.normalisation
        try comm.agree(order: planes.order) {
            try normalisation.restore(&values, shape: setup.shape, firstPlane: planes.tiling.lowerBound)
        }

        // Every output goes under its temporary name; they are renamed into place together only
        // when all are complete, so a late failure leaves the old outputs alone (`outputs`,
        // dropped uncommitted when the run throws, removes what it wrote).
        let slab = ScaledSlab(planes: planes, values: values, grid: files.grid, setup: setup, localB: localB,
                              mask: files.mask, report: maps.report)
        var sinks = sinks
        for index in sinks.indices {
            clock.timings.bytesWritten += try sinks[index].writePlanes(slab, into: outputs, communicator: comm)
        }
        clock.end(.write)
        let table = try gatheredTimings(clock.timings)
        try comm.rootTries {
            for sink in sinks { try sink.finish(timings: table, into: outputs) }
            try outputs.commit()
            for stale in outputs.removedStaleFiles {
                logger.notice("removed \(stale), left by a run that no longer exists")
            }
            job.wisdom.save(logger: logger, hadWisdom: hadWisdom)
        }
        return ScaleSummary(table: table, workImbalance: workImbalance, totalSeconds: Communicator.time - clock.started)
    }

    /// The model map of the atomic model at `path` on `grid`, simulated by all ranks, each keeping
    /// its slab; `--save-model-map` is written from the slabs into `outputs`.
    private func simulateModel(_ path: String, options: AtomicModelOptions, grid: Grid, outputs: OutputFiles,
                               clock: PhaseClock) throws -> PlaneSlabs {
        let map = try DistributedSimulation(comm: comm, logger: logger)
            .modelSlabs(of: path, options: options, grid: grid, threads: job.threads)
        if let saved = job.outputs.savedModelMap {
            clock.timings.bytesWritten += try DistributedMRCWriter.write(
                planes: map.planes, values: map.values, grid: grid,
                labels: ["localscale \(job.provenance.version): model map of \(path)"], to: saved, in: outputs,
                communicator: comm)
        }
        return map
    }

    /// Rank 0 plans the FFTs (from the wisdom file when there is one) and the method; every rank
    /// gets the setup and imports rank 0's plans (collective).
    /// - Returns: the setup; whether rank 0 had wisdom, and on rank 0 the line that says what the
    ///   run does (logged once the maps are read and checked).
    private func plan(_ files: InputFiles, selection: VoxelSelection) throws -> (RunSetup, Bool, String?) {
        let w = files.window, rule = job.rule, grid = files.grid
        let planned = try comm.rootTries { () throws -> (RunSetup, Bool, String) in
            let layout = SpectrumLayout(window: w, rule: rule)
            let hadWisdom = job.wisdom.load(logger: logger)
            let method: MethodPlan
            let methodText: String
            switch (job.method, rule) {
            case (.exact, _):
                method = .exact
                _ = CubeFFT(padded: layout.padded, filled: w, planning: job.planning)
                planLocalB(window: w)
                methodText = "FFT box \(layout.padded)³"
            case (.fast, .exact(let padFactor)):
                let box = FastBox(lower: selection.lower, upper: selection.upper, shape: grid.shape, window: w)
                method = .fast(FastPlan(box: box, padFactor: padFactor, exactShells: job.fastExactShells))
                planLocalB(window: w)
                let shells = job.fastExactShells < 0 ? "every shell estimated"
                    : "exact powers of shells 0…\(job.fastExactShells)"
                methodText = "fast method on a \(box.size.x)×\(box.size.y)×\(box.size.z) grid, "
                    + "\(layout.binCount) shells, \(shells)"
            case (.fast, .locscale2):
                throw ScaleJobError(description: "the fast method estimates exact mode; it cannot follow the locscale2 rule")
            }
            let ruleText = switch rule {
            case .exact(let padFactor): "pad factor \(formatDecimal(padFactor))"
            case .locscale2: "locscale2 rules"
            }
            let windowÅ = formatDecimal(Double(w) * grid.meanVoxelSize, digits: 1)
            let line = """
                scaling \(selection.count) voxels: window \(w) voxels (\(windowÅ) Å), \(methodText), \(ruleText), \
                \(comm.size) rank(s) × \(job.threads) thread(s)
                """
            return (RunSetup(shape: grid.shape, window: w, rule: rule, planeCounts: selection.planeCounts,
                             wisdom: FFTW.exportWisdom(), method: method), hadWisdom, line)
        }
        let setup = try JSONDecoder().decode(RunSetup.self, from: Data(
            comm.broadcast(Array(try planned.map { try JSONEncoder().encode($0.0) } ?? Data()))))
        if !comm.isRoot { FFTW.importWisdom(text: setup.wisdom) }
        return (setup, planned?.1 ?? false, planned?.2)
    }

    /// Test hook for the fault tests: the rank named by LOCALSCALE_TEST_KILL_RANK dies at the
    /// point named by LOCALSCALE_TEST_KILL_AT ("compute", the default, or "write": `FaultTestExit`,
    /// after the MRC maps' collective writes, before the commit), as a crashed node would.
    func killForFaultTest(at point: String) {
        if diesForFaultTest(at: point) { Self.exitForFaultTest(rank: comm.rank) }
    }

    /// Whether this rank is the one the fault tests end at `point`.
    func diesForFaultTest(at point: String) -> Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["LOCALSCALE_TEST_KILL_RANK"] == "\(comm.rank)"
            && (environment["LOCALSCALE_TEST_KILL_AT"] ?? "compute") == point
    }

    /// Ends this process with a line on stderr (the fault tests' crashed rank).
    static func exitForFaultTest(rank: Int) -> Never {
        FileHandle.standardError.write(Data("localscale: rank \(rank) exits (LOCALSCALE_TEST_KILL_RANK)\n".utf8))
        exit(9)
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
