import ArgumentParser
import Foundation
import LocScaleCore
import LocScaleEngine

/// `localscale confidence`: the FDR confidence map of a map and its mask, as LocScale 2.4.1 makes
/// its automatic mask. An MPI job: each rank reads and computes its own z-planes.
struct ConfidenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "confidence",
        abstract: "FDR confidence map of a map and its binary mask (LocScale 2's automatic mask).",
        discussion: """
        Beckers, Jakobi & Sachse, IUCrJ 2019, as LocScale 2.4.1's run_FDR computes it: the noise \
        mean and variance come from the noise region — four cubes of --window voxels on the \
        central z planes, at the low and high y edges (2 % in from the edge, centred in x) and at \
        the low and high x edges (centred in y); every voxel of the ball of radius max(NX, NY, NZ)/2 \
        gets a right-sided Gaussian p-value, the p-values are adjusted by Benjamini–Yekutieli \
        (q), and the confidence is 1 − q (0 outside the ball). The mask is confidence ≥ 1 − FDR.

        The noise region is wrong when the particle reaches the y or x edges of the central planes, \
        or when the map was masked outside the particle: the confidence map then means nothing. \
        The command refuses a map whose noise region is more than 5 % exactly 0 (masked solvent) \
        or constant, whose noise region has more than twice the variance of the eight corner cubes \
        of the same size (signal where noise was assumed), or where more than 1 % of the noise \
        region is in the mask.
        """)

    @Option(name: .customLong("em"), help: ArgumentHelp("Experimental map (unfiltered).", valueName: "map.mrc"))
    var experimentalPath: String?

    @Option(name: .customLong("half-maps"), parsing: .upToNextOption, help: ArgumentHelp(
        "Two half maps whose average is the map (instead of --em).",
        valueName: "half.mrc"))
    var halfMapPaths: [String] = []

    @Option(help: ArgumentHelp("False discovery rate of the mask, in (0, 1).", valueName: "rate"))
    var fdr: Double = ConfidenceMask.defaultFDR

    @Option(help: ArgumentHelp(
        "Edge of the noise cubes in voxels (default: 10 % of NZ, rounded up to even, as LocScale 2).",
        valueName: "voxels"))
    var window: Int?

    @Option(name: .customLong("out"), help: ArgumentHelp("Confidence map to write.", valueName: "conf.mrc"))
    var out: String

    @Option(name: .customLong("mask-out"), help: ArgumentHelp(
        "Binary mask (1 where confidence ≥ 1 − FDR) to write.",
        valueName: "mask.mrc"))
    var maskOut: String?

    var experimental: ExperimentalInput {
        halfMapPaths.count == 2 ? .halfMaps(halfMapPaths[0], halfMapPaths[1]) : .map(experimentalPath ?? "")
    }

    func validate() throws {
        guard (experimentalPath == nil) != halfMapPaths.isEmpty, halfMapPaths.isEmpty || halfMapPaths.count == 2 else {
            throw ValidationError("give either --em MAP.mrc or --half-maps HALF1.mrc HALF2.mrc")
        }
        guard fdr > 0 && fdr < 1 else { throw ValidationError("--fdr must lie in (0, 1) (found \(fdr))") }
        if let window, window < 2 {
            throw ValidationError("--window must be at least 2 voxels (found \(window))")
        }
        let inputs = experimental.paths.map { NamedPath(halfMapPaths.isEmpty ? "--em" : "--half-maps", $0) }
        let outputs = [NamedPath("--out", out)] + (maskOut.map { [NamedPath("--mask-out", $0)] } ?? [])
        if let collision = NamedPath.firstCollision(outputs: outputs, inputs: inputs) {
            throw ValidationError(collision)
        }
    }

    func run() throws {
        let job = ConfidenceJob(experimental: experimental, fdr: fdr, window: window, out: out, maskOut: maskOut,
                                provenance: .ofThisRun)
        try runOnRanks(quiet: false) { comm, logger in
            let lines = try ConfidenceRun(job: job, communicator: comm, logger: logger).run()
            if comm.isRoot { lines.forEach { print($0) } }
        }
    }
}
