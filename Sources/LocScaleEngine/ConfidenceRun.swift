import Foundation
import LocScaleCore
import LocScaleParallel
import Logging

/// `confidence`: the FDR confidence map of a map (LocScale 2's automatic mask) and its mask.
public struct ConfidenceJob: Codable, Equatable, Sendable {
    public var experimental: ExperimentalInput
    /// False discovery rate of the mask (the mask is confidence ≥ 1 − fdr).
    public var fdr: Double
    /// Edge of the noise cubes, voxels; nil = LocScale 2's default (`NoiseRegion.defaultWindow`).
    public var window: Int?
    /// The confidence map to write.
    public var out: String
    /// The binary mask to write, if any.
    public var maskOut: String?
    public var provenance: Provenance

    public init(experimental: ExperimentalInput, fdr: Double = ConfidenceMask.defaultFDR, window: Int? = nil,
                out: String, maskOut: String? = nil, provenance: Provenance) {
        self.experimental = experimental
        self.fdr = fdr
        self.window = window
        self.out = out
        self.maskOut = maskOut
        self.provenance = provenance
    }
}

/// `confidence` on any number of MPI ranks: each rank reads its own z-planes, the confidence
/// map is computed on the slabs (`ConfidenceMask`) and both maps are written by every rank with
/// MPI-IO (`DistributedMRCWriter`), then committed together. Collective: every rank calls `run()`.
public struct ConfidenceRun {
    let job: ConfidenceJob
    let comm: Communicator
    let logger: Logger

    public init(job: ConfidenceJob, communicator: Communicator, logger: Logger) {
        self.job = job
        self.comm = communicator
        self.logger = logger
    }

    /// Runs the job. - Returns: the lines to print (on every rank).
    public func run() throws -> [String] {
        let start = Date()
        try comm.rootTries {
            for path in [job.out] + (job.maskOut.map { [$0] } ?? []) { try OutputFiles.checkWritable(path) }
        }
        let paths = job.experimental.paths
        try comm.rootTries { for path in paths { _ = try MRCFile.readHeader(path: path) } }
        let header = try MRCFile.readHeader(path: job.experimental.path)
        header.warnings.forEach { logger.warning("\($0)") }
        let grid = header.grid
        let partition = SlabPartition(planeCounts: [Int](repeating: 1, count: grid.shape.z), ranks: comm.size)
        let planes = partition.ranges[comm.rank]
        let slab = try ConfidenceMask.compute(experimental: job.experimental, planes: planes, window: job.window,
                                              fdr: job.fdr, communicator: comm)

        let source = job.experimental.paths.joined(separator: " + ")
        let outputs = OutputFiles()
        _ = try DistributedMRCWriter.write(planes: planes, values: slab.confidence, grid: grid,
                                           labels: ["localscale \(job.provenance.version): FDR confidence of \(source)"],
                                           to: job.out, in: outputs, communicator: comm)
        if let maskOut = job.maskOut {
            let label = "localscale \(job.provenance.version): confidence >= \(1 - job.fdr) of \(source)"
            _ = try DistributedMRCWriter.write(planes: planes, values: slab.mask, grid: grid, labels: [label],
                                               to: maskOut, in: outputs, communicator: comm)
        }
        try comm.rootTries { try outputs.commit() }
        return Self.lines(slab, fdr: job.fdr, seconds: Date().timeIntervalSince(start))
    }

    /// What the run prints: the noise statistics, the mask's size and the time.
    static func lines(_ slab: ConfidenceSlab, fdr: Double, seconds: Double) -> [String] {
        let sd = slab.noise.variance.squareRoot()
        return [
            "noise: mean \(formatDecimal(slab.noise.mean, digits: 6)), sd \(formatDecimal(sd, digits: 6)) "
                + "over \(slab.region.summary)",
            "FDR \(formatDecimal(100 * fdr)) % (Benjamini–Yekutieli): \(slab.maskedVoxels) of "
                + "\(slab.testedVoxels) tested voxels have confidence ≥ \(formatDecimal(1 - fdr)) "
                + "(\(formatDecimal(100 * slab.maskedFraction, digits: 2)) % of the box); "
                + "\(formatDecimal(seconds, digits: 2)) s",
        ]
    }
}
