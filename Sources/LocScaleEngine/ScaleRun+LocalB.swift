import Foundation
import LocScaleCore
import LocScaleHDF5
import LocScaleParallel

/// One rank's planes of the local B map (`--bfactor-map`, docs/KERNEL.md §8), with what all
/// ranks' planes gave.
struct LocalBSlab {
    /// B (Å²) of the rank's tiling planes, (z, y, x), x fastest; 0 outside the mask and where a
    /// fit failed.
    let values: [Float]
    /// Voxels given a B (the masked voxels) and those whose fit failed, over all ranks.
    let voxels: Int
    let failedFits: Int
    /// The noise region's statistics (nil when the box is too small for the region), and the σ²
    /// subtracted (normalised map units², nil: none).
    let noise: SampleStatistics?
    let noiseVariance: Double?
    let range: GuinierRange
    let stride: Int
    /// LocScale 2's definition (`--compat locscale2`) rather than `LocalBFactorMap`.
    let locscale2: Bool
    /// Bytes this rank read for the halo its slab did not hold.
    let bytesRead: Int

    /// The lines rank 0 prints: the failed fits, and a missing noise correction with its reason.
    func lines(path: String) -> [String] {
        let percent = formatDecimal(100 * Double(failedFits) / Double(max(voxels, 1)), digits: 1)
        var lines = ["local B map: \(voxels) voxels, \(failedFits) failed fits (\(percent) %) set to 0"]
        if locscale2 {
            lines.append("local B map: LocScale 2's definition (emmer get_local_bfactor_emmap, Wilson cutoff "
                         + "\(formatDecimal(range.from)) Å): no noise correction, every voxel fitted")
        } else if noiseVariance == nil {
            let reason = if let noise, noise.zeroFraction > ConfidenceError.zeroLimit {
                "\(formatDecimal(100 * noise.zeroFraction, digits: 1)) % of its noise region is exactly 0 "
                    + "(solvent masked to zero)"
            } else if noise != nil { "its noise region is constant" } else { "the box is too small for a noise region" }
            lines.append("local B map: no noise correction: \(reason) in \(path)")
        }
        return lines
    }

    /// Seconds this rank spent on the map (its halo reads and its windows).
    var seconds: Double = 0

    /// Counts the map's bytes read, and its seconds as compute: the method's next phase took them
    /// (exact mode: compute; fast mode: scatter, which are moved).
    func count(in clock: PhaseClock, fast: Bool) {
        clock.timings.bytesRead += bytesRead
        guard fast else { return }
        clock.timings.seconds[Phase.scatter.rawValue] -= seconds
        clock.timings.seconds[Phase.compute.rawValue] += seconds
    }

    /// The map's MRC label (`--bfactor-map`): its definition and fit, at most 80 characters.
    func label(version: String) -> String {
        let fit = "\(formatDecimal(range.from)) A to \(range.to.map { "\(formatDecimal($0)) A" } ?? "Nyquist")"
        let definition = locscale2 ? "LocScale 2 local B" : "local B"
        return String("localscale \(version): \(definition) (A^2), Guinier \(fit), stride \(stride)".prefix(80))
    }

    /// `/bfactor`'s attributes.
    func setAttributes(on file: HDF5Writer) throws {
        try file.setAttribute("units", "Å^2", on: "/bfactor")
        try file.setAttribute("guinier_range", [range.from, range.to ?? .nan], on: "/bfactor")
        try file.setAttribute("stride", [Double(stride)], on: "/bfactor")
        try file.setAttribute("failed_fits", [Double(failedFits)], on: "/bfactor")
        try file.setAttribute("voxels", [Double(voxels)], on: "/bfactor")
        try file.setAttribute("noise_corrected", noiseVariance == nil ? "no" : "yes", on: "/bfactor")
        try file.setAttribute("definition", locscale2 ? "locscale2 (emmer get_local_bfactor_emmap)" : "localscale",
                              on: "/bfactor")
        try file.setAttribute("layout", """
            (z, y, x), x fastest; B in Å² (amplitude ∝ exp(−B s²/4)); 0 outside the mask and where the fit \
            failed; guinier_range in Å (NaN: Nyquist)
            """, on: "/bfactor")
    }
}

extension ScaleRun {
    /// With `--bfactor-map`, the B map's planes of this rank (`computeLocalB`), its lines logged
    /// on rank 0; nil without. Collective.
    func localBMap(_ maps: SlabMaps, files: InputFiles, planes: RankPlanes, selection: VoxelSelection,
                   window: Int) throws -> LocalBSlab? {
        guard job.outputs.bfactorMap != nil else { return nil }
        let start = Communicator.time
        var slab = try computeLocalB(maps, files: files, planes: planes, selection: selection, window: window)
        slab.seconds = Communicator.time - start
        slab.lines(path: job.experimental.path).forEach { logger.notice("\($0)") }
        return slab
    }

    /// The estimator whose planes the exact slabs must also hold (nil without `--bfactor-map`).
    func localBPlanes(setup: RunSetup, grid: Grid) -> (any LocalBEstimator)? {
        job.outputs.bfactorMap == nil ? nil : localBEstimator(window: setup.window, grid: grid, noiseVariance: nil)
    }

    /// The local B definition of the run (noise σ² in the normalised map's units²): `LocalBFactorMap`,
    /// or with `--compat locscale2` LocScale 2's own (`LocScale2LocalBFactorMap`: no noise correction,
    /// no stride, LocScale 2's x voxel size).
    func localBEstimator(window: Int, grid: Grid, noiseVariance: Double?) -> any LocalBEstimator {
        if usesLocScale2LocalB {
            return LocScale2LocalBFactorMap(window: window, voxelSize: grid.voxelSize.x, range: localBRange,
                                            planning: job.planning)
        }
        return LocalBFactorMap(window: window, voxelSize: grid.meanVoxelSize, range: localBRange,
                               noiseVariance: noiseVariance, stride: localBStride, planning: job.planning)
    }

    /// `--compat locscale2`: the B map is LocScale 2's definition.
    var usesLocScale2LocalB: Bool { job.rule == .locscale2 }

    /// Rank 0, while it plans: the FFT plans of the local B map (with `--bfactor-map`), so that
    /// they go into the wisdom every rank imports and every rank transforms the same way.
    func planLocalB(window: Int) {
        guard job.outputs.bfactorMap != nil else { return }
        if usesLocScale2LocalB {
            _ = LocScale2LocalBFactorMap(window: window, voxelSize: 1, planning: job.planning)
        } else {
            LocalBFactorMap.prepare(window: window, planning: job.planning)
        }
    }

    /// The Guinier fit's range: `--guinier-from` to the model's resolution, else Nyquist.
    var localBRange: GuinierRange {
        GuinierRange(from: job.localB.guinierFrom, to: job.model.atoms?.options.resolution)
    }

    var localBStride: Int {
        usesLocScale2LocalB ? 1 : job.localB.stride ?? LocalBOptions.defaultStride(for: job.method)
    }

    /// This rank's planes of the local B map of the (normalised) experimental map, for the voxels
    /// of its tiling planes that are scaled. The noise σ² comes from the noise region's planes
    /// each rank holds in its tiling, summed plane by plane over the ranks. The windows read the
    /// held planes of `maps` and, where those do not reach (fast mode holds its tiling only), the
    /// missing planes from the files, averaged and normalised as `SlabMaps` does. Collective.
    func computeLocalB(_ maps: SlabMaps, files: InputFiles, planes: RankPlanes, selection: VoxelSelection,
                       window: Int) throws -> LocalBSlab {
        let grid = files.grid, shape = grid.shape, plane = shape.x * shape.y
        var noise: SampleStatistics?
        if !usesLocScale2LocalB,
           let region = NoiseRegion(shape: shape, window: NoiseRegion.defaultWindow(shape: shape)) {
            noise = try ConfidenceMask.statistics(of: region.cubes, maps.experimental, planes: planes.held,
                                                  shape: shape, counting: planes.tiling, comm: comm)
        }
        let variance = noise.flatMap(LocalBFactorNoise.variance(from:))
        let estimator = localBEstimator(window: window, grid: grid, noiseVariance: variance)
        let voxels = selection.voxels(in: planes.tiling, mask: maps.mask)
        let needed = estimator.heldPlanes(for: planes.tiling, depth: shape.z)
        let below = needed.lowerBound ..< min(needed.upperBound, max(needed.lowerBound, planes.held.lowerBound))
        let above = max(needed.lowerBound, min(needed.upperBound, planes.held.upperBound)) ..< needed.upperBound
        // Every rank reads (collective), most read nothing.
        let lower = try readExperimental(below, files: files, normalisation: maps.normalisation)
        let upper = try readExperimental(above, files: files, normalisation: maps.normalisation)
        var extended: [Float] = []
        if !below.isEmpty || !above.isEmpty {
            let from = (max(needed.lowerBound, planes.held.lowerBound) - planes.held.lowerBound) * plane
            let to = (min(needed.upperBound, planes.held.upperBound) - planes.held.lowerBound) * plane
            extended = lower.values
            if from < to { extended += maps.experimental[from ..< to] }
            extended += upper.values
        }
        let first = extended.isEmpty ? planes.held.lowerBound : needed.lowerBound
        let result = (extended.isEmpty ? maps.experimental : extended).withUnsafeBufferPointer { e in
            estimator.compute(WindowSource(experimental: e, model: e, shape: shape, firstPlane: first,
                                           experimentalOutside: maps.experimentalOutside,
                                           modelOutside: maps.experimentalOutside),
                              voxels: voxels, threads: job.threads)
        }
        var values = [Float](repeating: 0, count: planes.tiling.count * plane)
        for (n, i) in voxels.enumerated() { values[i - planes.tiling.lowerBound * plane] = result.bfactors[n] }
        let totals = try comm.allReduceSum([Double(voxels.count), Double(result.failedFits)])
        return LocalBSlab(values: values, voxels: Int(totals[0]), failedFits: Int(totals[1]), noise: noise,
                          noiseVariance: variance, range: localBRange, stride: localBStride,
                          locscale2: usesLocScale2LocalB,
                          bytesRead: lower.bytes + upper.bytes)
    }

    /// The planes `range` of the experimental map (two half maps averaged: `ExperimentalPlanes`)
    /// from the files, normalised as the run's maps are, and the bytes read. Not checked finite:
    /// every plane is checked by the rank whose tiling holds it. Collective: every rank calls it,
    /// with its own range (possibly empty).
    private func readExperimental(_ range: Range<Int>, files: InputFiles,
                                  normalisation: MapNormalisation) throws -> (values: [Float], bytes: Int) {
        var read = try ExperimentalPlanes.read(files.experimental, planes: range,
                                               checked: range.lowerBound ..< range.lowerBound, communicator: comm)
        normalisation.normaliseExperimental(&read.values)
        return (read.values, read.bytesRead)
    }
}

/// What `--report` shows of the local B map: the histogram of the fitted voxels' B and the map's
/// three central slices (their contrast from percentiles inside the mask, as the maps').
struct LocalBReport {
    /// Fitted voxels per bin over `range` (Å²), over all ranks.
    let counts: [Int]
    let range: ClosedRange<Double>
    let slices: CentralSlices
    let voxels: Int, failedFits: Int

    static let bins = 60

    /// The report's section.
    func html(maskSlices: CentralSlices?) -> String {
        let percent = formatDecimal(100 * Double(failedFits) / Double(max(voxels, 1)), digits: 1)
        let histogram = SVGPlot.histogram(counts: counts, range: range,
                                          title: "Local B, \(voxels - failedFits) fitted voxels", xLabel: "B (Å²)")
        let masks = maskSlices?.images.map(\.rows)
        let images = slices.images.enumerated().map { i, image in
            "<figure>\(sliceImage(image.rows, mask: masks?[i], title: "local B, \(image.title)"))</figure>"
        }
        return "<h2>Local B map</h2><p>\(voxels) voxels, \(failedFits) failed fits (\(percent) %) set to 0 "
            + "(left out of the histogram).</p><figure>\(histogram)</figure><div>" + images.joined() + "</div>"
    }
}

extension LocalBSlab {
    /// The report's view of the map, on rank 0 (nil elsewhere): the histogram's counts added over
    /// the ranks and three planes gathered, no map. Collective.
    func report(planes: RankPlanes, shape: XYZ<Int>, comm: Communicator) throws -> LocalBReport? {
        let fitted = values.filter { $0 != 0 }.map(Double.init)
        let low = try comm.allReduceMin([fitted.min() ?? .infinity])[0]
        let high = try comm.allReduceMax([fitted.max() ?? -.infinity])[0]
        let range = low <= high ? low...high : 0...0
        let local = low <= high ? SVGPlot.binned(fitted, bins: LocalBReport.bins, range: range)
            : [Int](repeating: 0, count: LocalBReport.bins)
        let counts = try comm.allReduceSum(local.map(Double.init)).map { Int($0) }
        let slices = try CentralSlices.gathered(values, planes: planes.tiling, layout: planes.tilings, shape: shape,
                                                communicator: comm)
        return slices.map { LocalBReport(counts: low <= high ? counts : [], range: range, slices: $0, voxels: voxels,
                                         failedFits: failedFits) }
    }
}
