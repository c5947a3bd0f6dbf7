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

    @OptionGroup(title: "Inputs") var inputs: ScaleInputOptions
    @OptionGroup(title: "Inputs") var source: ModelSource
    @OptionGroup(title: "Method") var scaling: ScaleMethodOptions
    @OptionGroup(title: "Outputs") var outputs: ScaleOutputOptions
    @OptionGroup(title: "Performance") var performance: ScalePerformanceOptions

    var modelMapPath: String? { source.modelMapPath }
    var modelPath: String? { source.modelPath }
    var modelOptions: ModelOptions { source.modelOptions }

    func validate() throws {
        if outputs.savedModelMapPath != nil && modelPath == nil {
            throw ValidationError("--save-model-map needs --model")
        }
        if let collision = NamedPath.firstCollision(outputs: outputs.paths + (performance.wisdomFile().map {
            [NamedPath("--fftw-wisdom", $0)] } ?? []), inputs: inputPaths) {
            throw ValidationError(collision)
        }
    }

    /// The maps and model this run reads, with their options.
    var inputPaths: [NamedPath] {
        inputs.paths + [modelMapPath.map { NamedPath("--model-map", $0) }, modelPath.map { NamedPath("--model", $0) }]
            .compactMap { $0 }
    }

    func run() throws {
        try runOnRanks(quiet: performance.quiet) { comm, logger in
            try DistributedScaling(command: self, comm: comm, logger: logger).run()
        }
    }

    /// Threads of this rank: `--threads`, else the cores shared by the ranks on this node.
    var threads: Int { performance.threads }

    func read(_ path: String) throws -> NamedVolume {
        try readMap(path, logger: makeLogger(quiet: performance.quiet))
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
