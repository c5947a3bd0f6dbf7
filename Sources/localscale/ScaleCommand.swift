import ArgumentParser
import Foundation
import LocScaleCore
import Logging
import LocScaleEngine

/// The numerical rules to follow instead of ARCHITECTURE §1.2.
enum CompatMode: String, ExpressibleByArgument, CaseIterable {
    /// LocScale 2.4.1's rules (docs/COMPAT-LOCSCALE2.md).
    case locscale2
}

extension FFTPlanning: ExpressibleByArgument {}

extension ScalingMethod: ExpressibleByArgument {}

/// `localscale scale`: scale the local amplitudes of an experimental map to a model map.
struct ScaleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale",
        abstract: "Scale local amplitudes of an experimental map to those of a model map.",
        discussion: """
        For every voxel with mask >= 0.5 a cube of --window voxels is cut from both maps, \
        zero-padded to a smooth size >= pad-factor × window, Fourier transformed, and the \
        experimental amplitudes scaled shell by shell by sqrt(model power / experimental power); \
        the scaled cube's central voxel is the output. Voxels outside the mask are 0. Without \
        --mask the mask is made from the map's FDR confidence map (1 % FDR, as LocScale 2 does; \
        refused for a map masked to zero outside the particle or a particle reaching the box edge) \
        and grown by 6 Å, so that the weaker periphery next to the confident core is scaled too.
        """)

    @OptionGroup(title: "Inputs") var inputs: ScaleInputOptions
    @OptionGroup(title: "Inputs") var source: ModelSource
    @OptionGroup(title: "Method") var scaling: ScaleMethodOptions
    @OptionGroup(title: "Outputs") var outputs: ScaleOutputOptions
    @OptionGroup(title: "Local B map") var localB: ScaleLocalBOptions
    @OptionGroup(title: "Performance") var performance: ScalePerformanceOptions

    func validate() throws {
        if outputs.savedModelMapPath != nil && source.modelPath == nil {
            throw ValidationError("--save-model-map needs --model")
        }
        let job = job()
        try localB.validate(map: job.experimental.path, resolution: job.model.atoms?.options.resolution,
                            locscale2: job.rule == .locscale2)
        let wisdom = job.wisdomFile.map { [NamedPath("--fftw-wisdom", $0)] } ?? []
        if let collision = NamedPath.firstCollision(outputs: job.outputs.named + wisdom, inputs: job.inputs) {
            throw ValidationError(collision)
        }
    }

    /// The run the options describe.
    func job() -> ScaleJob {
        var files = outputs.outputs(maskOut: inputs.maskOutPath)
        files.bfactorMap = localB.path
        return ScaleJob(experimental: inputs.experimental, model: source.model, mask: inputs.mask,
                        rule: scaling.compat == .locscale2 ? .locscale2 : .exact(padFactor: scaling.padFactor),
                        window: scaling.window, method: scaling.method, fastExactShells: scaling.fastExactShells,
                        outputs: files, threads: performance.threads, planning: performance.planning,
                        wisdomFile: performance.wisdomFile(), progress: performance.showsProgress,
                        ioFloor: performance.ioFloor, provenance: .ofThisRun, localB: localB.options)
    }

    func run() throws {
        let job = job()
        try runOnRanks(quiet: performance.quiet) { comm, logger in
            let summary = try ScaleRun(job: job, communicator: comm, logger: logger).run()
            if comm.isRoot { Self.report(summary, of: job, ranks: comm.size).forEach { logger.info("\($0)") } }
        }
    }

    /// Rank 0's lines after a run: the per-rank timing table (with more than one rank) and the
    /// summary line.
    static func report(_ summary: ScaleSummary, of job: ScaleJob, ranks: Int) -> [String] {
        let table = summary.table
        var lines: [String] = []
        if ranks > 1 {
            let work = job.method == .fast ? "planes" : "masked voxels"
            let imbalance = formatDecimal(summary.workImbalance, digits: 3)
            lines.append("per-rank seconds:\n\(table.text)\nwork imbalance (max/mean \(work)) \(imbalance)")
        }
        let computeWall = table.compute.max() ?? 0
        let rate = Double(table.voxels) / max(computeWall, 1e-9)
        let coreMicroseconds = table.compute.reduce(0, +) * Double(job.threads) / Double(max(table.voxels, 1)) * 1e6
        let outputs = [job.outputs.map, job.outputs.hdf5, job.outputs.bfactorMap].compactMap { $0 }
            .joined(separator: " and ")
        lines.append("scaled \(table.voxels) voxels in \(formatDecimal(computeWall, digits: 2)) s (\(Int(rate)) voxels/s, "
                     + "\(formatDecimal(coreMicroseconds, digits: 1)) core-µs/voxel); "
                     + "total \(formatDecimal(summary.totalSeconds, digits: 2)) s; wrote \(outputs)")
        lines.append(ioLine(table))
        return lines
    }

    /// "I/O: read X MB (R MB/s), wrote Y MB (W MB/s) over all ranks", with "; floor F MB/s" after
    /// each rate when the floor was measured.
    static func ioLine(_ table: TimingTable) -> String {
        let (read, written) = (table.bytesRead.reduce(0, +), table.bytesWritten.reduce(0, +))
        let (bandwidth, floor) = (table.bandwidth, table.floor?.bandwidth)
        func rate(_ run: Double, _ floor: Double?) -> String {
            "\(formatDecimal(run, digits: 0)) MB/s" + (floor.map { "; floor \(formatDecimal($0, digits: 0)) MB/s" } ?? "")
        }
        return "I/O: read \(formatDecimal(Double(read) / 1e6, digits: 1)) MB (\(rate(bandwidth.read, floor?.read))), "
            + "wrote \(formatDecimal(Double(written) / 1e6, digits: 1)) MB (\(rate(bandwidth.write, floor?.write))) "
            + "over all ranks"
    }
}

extension Provenance {
    /// This binary and its command line.
    static var ofThisRun: Provenance {
        Provenance(version: LocalScaleCommand.version, build: BuildInfo.provenance, commandLine: CommandLine.arguments)
    }
}
