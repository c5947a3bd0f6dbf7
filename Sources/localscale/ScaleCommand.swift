import ArgumentParser
import Foundation
import LocScaleCore
import Logging
import LocScaleParallel

/// The numerical rules to follow instead of DESIGN §1.2.
enum CompatMode: String, ExpressibleByArgument, CaseIterable {
    /// LocScale 2.4.1's rules (docs/COMPAT-LOCSCALE2.md).
    case locscale2
}

extension FFTPlanning: ExpressibleByArgument {}

/// How the local shell powers are found.
enum ScalingMethod: String, ExpressibleByArgument, CaseIterable, Codable {
    /// Two FFTs of the padded cube per voxel (DESIGN §1.2).
    case exact
    /// The matched filter bank: whole-map FFTs per Fourier shell (FASTMODE.md), an estimate of
    /// exact mode at the same pad factor.
    case fast
}

/// `localscale scale`: scale the local amplitudes of an experimental map to a model map.
struct ScaleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale",
        abstract: "Scale local amplitudes of an experimental map to those of a model map.",
        discussion: """
        For every voxel with mask >= 0.5 a cube of --window voxels is cut from both maps, \
        zero-padded to a smooth size >= pad-factor × window, Fourier transformed, and the \
        experimental amplitudes scaled shell by shell by sqrt(model power / experimental power); \
        the scaled cube's central voxel is the output. Voxels outside the mask are 0.
        """)

    @Option(name: .customLong("em"), help: ArgumentHelp("Experimental map (unfiltered, unsharpened).", valueName: "map.mrc"))
    var experimentalPathOption: String?

    @Option(name: .customLong("half-maps"), parsing: .upToNextOption, help: ArgumentHelp("Two half maps whose average is the experimental map (instead of --em), as LocScale 2 does.", valueName: "half.mrc"))
    var halfMapPaths: [String] = []

    @Option(name: .customLong("report"), help: ArgumentHelp("Folder for a validation report of input and output (report.html, summary.json, CSV).", valueName: "dir"))
    var reportDirectory: String?

    /// The experimental map's path, or the first half map's (for messages and the grid).
    var experimentalPath: String { experimentalPathOption ?? halfMapPaths.first ?? "" }

    @OptionGroup var source: ModelSource

    var modelMapPath: String? { source.modelMapPath }
    var modelPath: String? { source.modelPath }
    var modelOptions: ModelOptions { source.modelOptions }

    @Option(name: .customLong("save-model-map"), help: ArgumentHelp("With --model: also write the simulated model map.", valueName: "model-map.mrc"))
    var savedModelMapPath: String?

    @Option(name: .customLong("mask"), help: ArgumentHelp("Mask on the same grid; voxels >= 0.5 are scaled (default: all voxels).", valueName: "mask.mrc"))
    var maskPath: String?

    @Option(help: ArgumentHelp("Window edge in voxels (default: ceil(25 Å / voxel size), rounded up to even).", valueName: "voxels"))
    var window: Int?

    @Option(name: .customLong("pad-factor"), help: ArgumentHelp("Zero-pad the window to a smooth size >= this × window.", valueName: "factor"))
    var padFactor: Double = 2

    @Option(help: "Reproduce another implementation's numerical rules.")
    var compat: CompatMode?

    @Option(help: ArgumentHelp("""
        exact: two FFTs of the padded cube per voxel. fast: whole-map FFTs per Fourier shell, \
        an estimate of exact mode at the same --pad-factor (a few % relative RMS from it, many \
        times faster on big maps).
        """))
    var method: ScalingMethod = .exact

    @Option(name: .customLong("fast-exact-shells"), help: ArgumentHelp("""
        With --method fast: measure the powers of shells 0 … K exactly by sliding DFTs \
        (default 1; --fast-exact-shells=-1: estimate every shell).
        """, valueName: "K"))
    var fastExactShellsOption: Int?

    /// Highest shell whose powers fast mode measures exactly.
    var fastExactShells: Int { fastExactShellsOption ?? 1 }

    @Option(name: .customLong("threads"), help: ArgumentHelp("Threads per rank sharing its voxels (default: the cores, divided by the ranks on the node under mpirun).", valueName: "n"))
    var requestedThreads: Int?

    @Option(name: .customLong("out"), help: ArgumentHelp("Output map (MRC, mode 2, the input's geometry).", valueName: "out.mrc"))
    var outputPath: String?

    @Option(name: .customLong("hdf5"), help: ArgumentHelp("Output HDF5 file: /map (z, y, x), /timing per rank, /provenance.", valueName: "out.h5"))
    var hdf5Path: String?

    @Option(name: .customLong("timings-json"), help: ArgumentHelp("Write the per-rank timing table as JSON.", valueName: "timings.json"))
    var timingsPath: String?

    @Option(name: .customLong("fft-planning"), help: "How hard FFTW searches for fast plans (made once per run).")
    var planning: FFTPlanning = .patient

    @Option(name: .customLong("fftw-wisdom"), help: ArgumentHelp("""
        FFTW wisdom file: plans are read from it and new ones saved to it, so that runs sharing it \
        give bitwise identical maps ('none': plan afresh each run). Default: $LOCALSCALE_FFTW_WISDOM, \
        else ~/.cache/localscale/fftw-wisdom-HOST.
        """, valueName: "path"))
    var wisdomPath: String?

    @Flag(help: "Print a progress line on stderr even when it is not a terminal.")
    var progress = false

    @Flag(name: .shortAndLong, help: "Print warnings and errors only.")
    var quiet = false

    func validate() throws {
        guard padFactor >= 1, padFactor <= 8 else {
            throw ValidationError("--pad-factor \(padFactor): must be between 1 and 8")
        }
        if let requestedThreads, requestedThreads < 1 {
            throw ValidationError("--threads \(requestedThreads): must be at least 1")
        }
        guard (experimentalPathOption == nil) != halfMapPaths.isEmpty, halfMapPaths.isEmpty || halfMapPaths.count == 2 else {
            throw ValidationError("give either --em MAP.mrc or --half-maps HALF1.mrc HALF2.mrc")
        }
        if savedModelMapPath != nil && modelPath == nil {
            throw ValidationError("--save-model-map needs --model")
        }
        guard outputPath != nil || hdf5Path != nil else {
            throw ValidationError("give --out OUT.mrc, --hdf5 OUT.h5, or both")
        }
        if method == .fast && compat != nil {
            throw ValidationError("--method fast estimates exact mode; it cannot follow --compat locscale2")
        }
        if let k = fastExactShellsOption {
            guard method == .fast else { throw ValidationError("--fast-exact-shells needs --method fast") }
            guard k >= -1 else { throw ValidationError("--fast-exact-shells \(k): must be -1 (none) or a shell number >= 0") }
        }
        if compat != nil && padFactor != 2 {
            throw ValidationError("--pad-factor has no meaning with --compat locscale2 (it never pads)")
        }
        if let collision = NamedPath.firstCollision(outputs: outputPaths + (wisdomFile().map {
            [NamedPath("--fftw-wisdom", $0)] } ?? []), inputs: inputPaths) {
            throw ValidationError(collision)
        }
    }

    /// The maps and model this run reads, with their options.
    var inputPaths: [NamedPath] {
        (experimentalPathOption.map { [NamedPath("--em", $0)] } ?? []) + halfMapPaths.map { NamedPath("--half-maps", $0) }
            + [modelMapPath.map { NamedPath("--model-map", $0) }, modelPath.map { NamedPath("--model", $0) },
               maskPath.map { NamedPath("--mask", $0) }].compactMap { $0 }
    }

    /// The files this run writes, with their options.
    var outputPaths: [NamedPath] {
        [outputPath.map { NamedPath("--out", $0) }, hdf5Path.map { NamedPath("--hdf5", $0) },
         timingsPath.map { NamedPath("--timings-json", $0) }, savedModelMapPath.map { NamedPath("--save-model-map", $0) }]
            .compactMap { $0 }
            + (reportDirectory.map { ValidationReport.files(in: $0, maps: ["input", "output"]) } ?? [])
                .map { NamedPath("--report", $0) }
    }

    func run() throws {
        try runOnRanks(quiet: quiet) { comm, logger in
            try DistributedScaling(command: self, comm: comm, logger: logger).run()
        }
    }

    /// Threads of this rank: `--threads`, else the cores shared by the ranks on this node.
    var threads: Int { requestedThreads ?? coresPerLocalRank() }

    /// Whether rank 0 shows a progress line.
    var showsProgress: Bool { !quiet && (progress || isatty(STDERR_FILENO) == 1) }

    /// Loads the wisdom file, if any; true when it held plans.
    func loadWisdom(logger: Logger) -> Bool {
        guard let path = wisdomFile() else { return false }
        let loaded = FFTW.importWisdom(from: path)
        if !loaded && FileManager.default.fileExists(atPath: path) {
            logger.warning("\(path) is not FFTW wisdom this build can read; planning afresh (outputs may differ from earlier runs in the last bit)")
        }
        return loaded
    }

    /// Saves the plans to the wisdom file, if any (a failure only warns).
    func saveWisdom(logger: Logger, hadWisdom: Bool) {
        guard let wisdom = wisdomFile() else { return }
        do { try FFTW.exportWisdom(to: wisdom) } catch { logger.warning("\(error)") }
        logger.info("FFTW plans (\(planning.rawValue)) \(hadWisdom ? "from" : "saved to") \(wisdom)")
    }

    /// The wisdom file to use, or nil for none.
    func wisdomFile() -> String? {
        if let wisdomPath { return wisdomPath == "none" ? nil : wisdomPath }
        if let path = ProcessInfo.processInfo.environment["LOCALSCALE_FFTW_WISDOM"], !path.isEmpty {
            return path == "none" ? nil : path
        }
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        return "\(home)/.cache/localscale/fftw-wisdom-\(ProcessInfo.processInfo.hostName)"
    }

    func read(_ path: String) throws -> NamedVolume {
        try readMap(path, logger: makeLogger(quiet: quiet))
    }

    /// The command line, in MRC labels of 80 characters.
    func provenanceLabels() -> [String] {
        let line = "localscale \(LocalScaleCommand.version): " + CommandLine.arguments.dropFirst().joined(separator: " ")
        return stride(from: 0, to: line.count, by: 80).prefix(10).map { start in
            let from = line.index(line.startIndex, offsetBy: start)
            return String(line[from..<line.index(from, offsetBy: min(80, line.count - start))])
        }
    }
}

/// The cores of this node divided by the MPI ranks on it (from Open MPI's, MPICH's or slurm's
/// environment; 1 rank without them).
func coresPerLocalRank() -> Int {
    let environment = ProcessInfo.processInfo.environment
    let local = ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"]
        .compactMap { environment[$0].flatMap { Int($0) } }.first ?? 1
    return max(1, ProcessInfo.processInfo.activeProcessorCount / max(1, local))
}

/// A logger that writes "localscale: LEVEL: message" lines to stderr.
func makeLogger(quiet: Bool) -> Logger {
    var logger = Logger(label: "localscale") { _ in PlainStderrHandler() }
    logger.logLevel = quiet ? .warning : .info
    return logger
}

/// swift-log handler for a command-line tool: one plain line per message on stderr.
struct PlainStderrHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let prefix = event.level >= .warning ? "localscale: \(event.level): " : "localscale: "
        FileHandle.standardError.write(Data((prefix + event.message.description + "\n").utf8))
    }
}

extension Duration {
    /// This duration in seconds.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
