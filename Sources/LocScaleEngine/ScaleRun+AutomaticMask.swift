import Foundation
import LocScaleCore
import LocScaleHDF5
import LocScaleParallel

/// The mask a `scale` run computed itself (`MaskChoice.automatic`, ARCHITECTURE §1.6): the
/// FDR confidence mask of the experimental map (LocScale 2's) grown by `growthDistance`, written
/// to a file that the run then scales with as if it had been given with `--mask`.
struct AutomaticMask {
    let fdr: Double
    /// The map it was computed from ("em.mrc", or "h1.mrc + h2.mrc" for their average).
    let source: String
    /// Voxels of the confidence mask, and of the grown mask that is scaled.
    let confidentVoxels: Int
    let maskedVoxels: Int
    let voxelCount: Int
    /// The file holding it (rank 0's temporary name; the same string on every rank).
    let path: String

    /// How far the confidence mask is grown, Å: every voxel within it of a confident voxel is
    /// scaled. The per-voxel test finds a map's well-ordered core but not its weaker periphery
    /// (higher local B), whose voxels would be 0 in the output (benchmarks/RESULTS.md §19).
    static let growthDistance = 6.0

    /// The growth on `grid`: `growthDistance` in voxels of the mean voxel size, rounded to 1/1000
    /// voxel (voxel sizes come from float32 header fields: 6 Å at "1.2 Å" is 5 voxels, not 4.9999999).
    static func growth(grid: Grid) -> BallDilation {
        let voxels = (1000 * growthDistance / grid.meanVoxelSize).rounded() / 1000
        return BallDilation(radius: min(BallDilation.largestRadius, voxels))
    }

    /// What the report and `/mask` call it.
    var description: String {
        "automatic: FDR \(formatDecimal(100 * fdr)) % confidence mask of \(source) grown by "
            + "\(formatDecimal(Self.growthDistance)) Å (\(percent(maskedVoxels)) % of the box)"
    }

    /// The line `scale` logs.
    var line: String {
        "automatic mask from the FDR confidence map of \(source): FDR \(formatDecimal(100 * fdr)) %, "
            + "\(percent(confidentVoxels)) % of the box (\(confidentVoxels) voxels), grown by "
            + "\(formatDecimal(Self.growthDistance)) Å to \(percent(maskedVoxels)) % (\(maskedVoxels) voxels)"
    }

    private func percent(_ voxels: Int) -> String {
        formatDecimal(100 * Double(voxels) / Double(voxelCount), digits: 1)
    }

    /// `/mask`'s attributes (its planes are written with `/map`, `HDF5MapOutput`: float32
    /// (z, y, x), 1 where a voxel was scaled and 0 elsewhere, chunked as `/map`).
    func setAttributes(on file: HDF5Writer) throws {
        try file.setAttribute("description", description, on: "/mask")
        try file.setAttribute("layout", "(z, y, x), x fastest; 1 = scaled, 0 = not", on: "/mask")
    }
}

extension ScaleRun {
    /// The mask as the report names it.
    var maskName: String { automaticMask?.description ?? job.mask.file ?? "none" }

    /// `scale` without `--mask`: every rank computes its planes of the automatic mask (the FDR
    /// confidence mask of the experimental map, `ConfidenceMask`, grown), the mask is written with MPI-IO to `--mask-out` (or
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
        let grown = try growMask(fdr: fdr, planes: planes, growth: AutomaticMask.growth(grid: grid),
                                 planeCount: grid.shape.z)

        let source = job.experimental.paths.joined(separator: " + ")
        let runFiles = OutputFiles()
        let maskFiles = job.outputs.maskOut == nil ? OutputFiles() : runFiles
        let target = job.outputs.maskOut ?? ((job.outputs.map ?? job.outputs.hdf5 ?? "localscale") + ".automatic-mask")
        let label = "localscale \(job.provenance.version): confidence >= \(1 - fdr) of \(source), "
            + "grown by \(formatDecimal(AutomaticMask.growthDistance)) A"
        _ = try DistributedMRCWriter.write(planes: planes, values: grown.mask, grid: grid, labels: [label], to: target,
                                           in: maskFiles, communicator: comm)
        let mask = AutomaticMask(fdr: fdr, source: source, confidentVoxels: grown.confident,
                                 maskedVoxels: grown.masked, voxelCount: grid.voxelCount,
                                 path: try comm.broadcast(comm.isRoot ? OutputFiles.temporaryName(of: target) : ""))
        logger.notice("\(mask.line); give --mask none to scale every voxel")
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

    /// This rank's `planes` of the automatic mask: the FDR confidence mask (`ConfidenceMask`,
    /// LocScale 2's) grown by `growth`, from the experimental map's planes within `growth.reach`
    /// of `planes`, whose own confidence mask is classified by the same test. Collective.
    /// - Returns: the mask's planes and the voxels of the whole map in the confidence mask and in
    ///   the grown mask.
    private func growMask(fdr: Double, planes: Range<Int>, growth: BallDilation, planeCount: Int) throws
        -> (mask: [Float], confident: Int, masked: Int) {
        let held = max(0, planes.lowerBound - growth.reach) ..< min(planeCount, planes.upperBound + growth.reach)
        let confident = try confidenceMask(fdr: fdr, planes: planes, held: held)
        let mask = growth.grow(confident.mask, held: held, shape: confident.shape, planes: planes)
        let masked = try comm.allReduceSum([Double(mask.reduce(0) { $0 + ($1 == 1 ? 1 : 0) })])[0]
        return (mask, confident.voxels, Int(masked))
    }

    /// The FDR confidence mask of the experimental map's planes `held`, each rank testing its
    /// `planes`; the map's planes are dropped on return, and no confidence map is made (memory,
    /// benchmarks/RESULTS.md §22). Collective.
    /// - Returns: the mask's planes, the map's shape, the voxels of the whole map in the mask.
    private func confidenceMask(fdr: Double, planes: Range<Int>, held: Range<Int>) throws
        -> (mask: [Float], shape: XYZ<Int>, voxels: Int) {
        let (shape, values) = try ConfidenceMask.read(job.experimental, planes: held, checked: planes,
                                                      communicator: comm)
        let rule: ConfidenceMaskRule, voxels: Int
        do {
            let tested = try ConfidenceMask.test(values: values, held: held, planes: planes, shape: shape,
                                                 path: job.experimental.path, window: nil, fdr: fdr,
                                                 communicator: comm)
            (rule, voxels) = (tested.rule, tested.maskedVoxels)
        } catch let failure as AgreedFailure {
            try comm.agree("\(failure); give --mask MASK.mrc or --mask none")
            throw failure
        }
        return (rule.mask(values, planes: held), shape, voxels)
    }
}
