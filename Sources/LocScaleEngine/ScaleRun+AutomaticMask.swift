import Foundation
import LocScaleCore
import LocScaleHDF5
import LocScaleParallel

/// The mask a `scale` run computed itself (`MaskChoice.automatic`, ARCHITECTURE §1.6): the
/// FDR confidence mask of the experimental map, written to a file that the run then scales with
/// as if it had been given with `--mask`.
struct AutomaticMask {
    let fdr: Double
    /// The map it was computed from ("em.mrc", or "h1.mrc + h2.mrc" for their average).
    let source: String
    let maskedVoxels: Int
    let voxelCount: Int
    /// The file holding it (rank 0's temporary name; the same string on every rank).
    let path: String

    /// What the report and `/mask` call it.
    var description: String {
        "automatic: FDR \(formatDecimal(100 * fdr)) % confidence mask of \(source) "
            + "(\(formatDecimal(100 * Double(maskedVoxels) / Double(voxelCount), digits: 1)) % of the box)"
    }

    /// `/mask`'s attributes (its planes are written with `/map`, `ScaleRun.writeHDF5Map`: float32
    /// (z, y, x), 1 where a voxel was scaled and 0 elsewhere, chunked as `/map`).
    func setAttributes(on file: HDF5Writer) throws {
        try file.setAttribute("description", description, on: "/mask")
        try file.setAttribute("layout", "(z, y, x), x fastest; 1 = scaled, 0 = not", on: "/mask")
    }
}

extension ScaleRun {
    /// The mask file given with `--mask` (nil with `--mask none` and for the automatic mask).
    var givenMaskFile: String? { automaticMask == nil ? job.mask.file : nil }

    /// The mask as the report names it.
    var maskName: String { automaticMask?.description ?? job.mask.file ?? "none" }

    /// `scale` without `--mask`: every rank computes its planes of the FDR confidence mask of the
    /// experimental map (`ConfidenceMask`), the mask is written with MPI-IO to `--mask-out` (or
    /// to a temporary file next to the first output, removed at the end), and the run goes on as
    /// if `--mask` had named that file. `--mask-out` is one of the run's outputs, renamed into
    /// place with the others when all are complete. Collective.
    func runWithAutomaticMask(fdr: Double) throws -> ScaleSummary {
        let start = Communicator.time
        try comm.rootTries {
            for output in job.outputs.named {
                try OutputFiles.checkWritable(output.path, mayCreateFolder: output.option == "--report")
            }
            for path in job.experimental.paths { _ = try MRCFile.readHeader(path: path) }
        }
        let grid = try MRCFile.readHeader(path: job.experimental.path).grid
        let planes = SlabPartition(planeCounts: [Int](repeating: 1, count: grid.shape.z), ranks: comm.size)
            .ranges[comm.rank]
        let (shape, values) = try comm.agree { try ConfidenceMask.read(job.experimental, planes: planes) }
        let slab: ConfidenceSlab
        do {
            slab = try ConfidenceMask.compute(values: values, planes: planes, shape: shape,
                                              path: job.experimental.path, window: nil, fdr: fdr, communicator: comm)
        } catch let failure as AgreedFailure {
            try comm.agree("\(failure); give --mask MASK.mrc or --mask none")
            throw failure
        }

        let source = job.experimental.paths.joined(separator: " + ")
        let runFiles = OutputFiles()
        let maskFiles = job.outputs.maskOut == nil ? OutputFiles() : runFiles
        let target = job.outputs.maskOut ?? ((job.outputs.map ?? job.outputs.hdf5 ?? "localscale") + ".automatic-mask")
        let label = "localscale \(job.provenance.version): confidence >= \(1 - fdr) of \(source)"
        _ = try DistributedMRCWriter.write(planes: planes, values: slab.mask, grid: grid, labels: [label], to: target,
                                           in: maskFiles, communicator: comm)
        let mask = AutomaticMask(fdr: fdr, source: source, maskedVoxels: slab.maskedVoxels,
                                 voxelCount: slab.voxelCount,
                                 path: try comm.broadcast(comm.isRoot ? OutputFiles.temporaryName(of: target) : ""))
        logger.notice("""
            automatic mask from the FDR confidence map of \(source): FDR \(formatDecimal(100 * fdr)) %, \
            \(formatDecimal(100 * slab.maskedFraction, digits: 1)) % of the box (\(slab.maskedVoxels) voxels); \
            give --mask none to scale every voxel
            """)
        let maskSeconds = Communicator.time - start

        var masked = job
        masked.mask = .file(mask.path)
        var scaling = ScaleRun(job: masked, communicator: comm, logger: logger)
        scaling.automaticMask = mask
        scaling.sharedOutputs = runFiles
        let summary = try scaling.run()
        // `maskFiles` lives to here: dropped earlier, it would remove the mask file while it is read.
        if job.outputs.maskOut == nil { maskFiles.discard() }
        return ScaleSummary(table: summary.table, workImbalance: summary.workImbalance,
                            totalSeconds: summary.totalSeconds + maskSeconds)
    }
}
