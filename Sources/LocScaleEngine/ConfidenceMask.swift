import LocScaleCore
import LocScaleParallel

/// One rank's planes of a map's FDR confidence map and mask (ARCHITECTURE §1.6), with what the
/// whole map gave.
public struct ConfidenceSlab: Sendable {
    /// The z-planes held.
    public let planes: Range<Int>
    /// Confidence `1 − q` of each voxel of `planes`, (z, y, x) order, x fastest; 0 outside the
    /// tested ball and wherever `q = 1`.
    public let confidence: [Float]
    /// 1 where the confidence is at least `1 − fdr`, else 0; the same layout.
    public let mask: [Float]
    /// The rule that made `mask`, to classify voxels of other planes (the same on every rank).
    public let rule: ConfidenceMaskRule
    /// The noise region and its statistics.
    public let region: NoiseRegion
    public let noise: SampleStatistics
    /// Voxels of the whole map: tested (in the ball), in the mask, all.
    public let testedVoxels: Int
    public let maskedVoxels: Int
    public let voxelCount: Int

    /// Fraction of the whole map's voxels in the mask.
    public var maskedFraction: Double { Double(maskedVoxels) / Double(voxelCount) }
}

/// The right-sided p-values of a map's tested voxels (those in the ball) against the noise
/// statistics, and which of them are candidates (below `bound`; every other voxel has `q = 1`).
public struct VoxelPValues: Sendable {
    let shape: XYZ<Int>
    let ball: ConfidenceBall
    let noise: SampleStatistics
    /// p-values at or above it have `q = 1` (`FDRConfidence.candidateBound`).
    let bound: Double
    /// `1/σ` of the noise, and the statistic below which no voxel is a candidate
    /// (`FDRConfidence.candidateFloor`).
    private let inverseSD: Double, floor: Double

    init(shape: XYZ<Int>, ball: ConfidenceBall, noise: SampleStatistics, bound: Double) {
        (self.shape, self.ball, self.noise, self.bound) = (shape, ball, noise, bound)
        inverseSD = 1 / noise.variance.squareRoot()
        floor = FDRConfidence.candidateFloor(bound: bound)
    }

    /// The p-value of the voxel (x, y, z) of value `value` when it is a candidate, else nil.
    @inline(__always)
    func candidatePValue(_ value: Float, x: Int, y: Int, z: Int) -> Double? {
        guard ball.contains(x: x, y: y, z: z) else { return nil }
        let t = (Double(value) - noise.mean) * inverseSD
        guard t >= floor else { return nil }
        let p = FDRConfidence.pValue(t: t)
        return p < bound ? p : nil
    }

    /// Calls `body` with the index in `values` and the p-value of every candidate voxel of
    /// `planes`, plane by plane, then y, then x; `values` holds the planes `held` of the map.
    @inline(__always)
    func forEachCandidate(_ values: [Float], held: Range<Int>, planes: Range<Int>, _ body: (Int, Double) -> Void) {
        precondition(values.count == held.count * shape.x * shape.y, "values do not fill the planes")
        for z in planes {
            for y in 0..<shape.y {
                let row = ((z - held.lowerBound) * shape.y + y) * shape.x
                for x in 0..<shape.x {
                    if let p = candidatePValue(values[row + x], x: x, y: y, z: z) { body(row + x, p) }
                }
            }
        }
    }

    /// The candidates of `planes` sorted by p-value: their p-values, and with `indices` their
    /// indices in `values` (else none).
    func candidates(_ values: [Float], held: Range<Int>, planes: Range<Int>,
                    indices: Bool) -> (values: [Double], payload: [Int]) {
        var p: [Double] = [], index: [Int] = []
        forEachCandidate(values, held: held, planes: planes) { i, pValue in
            p.append(pValue)
            if indices { index.append(i) }
        }
        RadixSort.sort(&p, carrying: &index)
        return (p, index)
    }
}

/// Which voxels an FDR confidence test puts in the mask, as a bound on the p-value
/// (`RankedCandidates.maskLimit`): what the candidates' `q` decide, without their arrays. The
/// same on every rank: it classifies the voxels of any planes of the map as
/// `ConfidenceMask.compute` classifies its own.
public struct ConfidenceMaskRule: Sendable {
    let pValues: VoxelPValues
    /// A candidate is in the mask when its p-value is below it.
    let pLimit: Double

    /// The mask (1 in, 0 out) of the planes `planes` of the map, given in `values`: one pass over
    /// the voxels, nothing held beside the mask.
    public func mask(_ values: [Float], planes: Range<Int>) -> [Float] {
        var mask = [Float](repeating: 0, count: values.count)
        pValues.forEachCandidate(values, held: planes, planes: planes) { i, p in if p < pLimit { mask[i] = 1 } }
        return mask
    }
}

/// The FDR confidence map and mask of a map split into z-slabs over the ranks, the same bit for
/// bit for any number of ranks: the noise sums are added plane by plane, and the
/// Benjamini–Yekutieli adjustment, which needs the global order of the p-values, places each
/// rank's candidates (the voxels whose p-value lies below `FDRConfidence.candidateBound`; every
/// other voxel has `q = 1`) among every rank's without gathering them (`RankedCandidates`).
/// Collective: every rank calls it with its own planes (any split of 0..<NZ).
public enum ConfidenceMask {
    /// LocScale 2's FDR (1 %).
    public static let defaultFDR = 0.01

    /// Whether a voxel of adjusted p-value `q` is in the mask at false discovery rate `fdr`:
    /// confidence `1 − q` ≥ `1 − fdr`.
    @inline(__always)
    static func isMasked(q: Double, fdr: Double) -> Bool { 1 - q >= 1 - fdr }

    /// Reads this rank's `planes` of the experimental map (the average of two half maps) and
    /// computes them; `window` nil = `NoiseRegion.defaultWindow`.
    /// - Throws: `AgreedFailure` on every rank, with one line naming the file: unreadable or
    ///   non-finite input (or average of the half maps), half maps on different grids, or a
    ///   `ConfidenceError`.
    public static func compute(experimental: ExperimentalInput, planes: Range<Int>, window: Int?, fdr: Double,
                               communicator: Communicator) throws -> ConfidenceSlab {
        let (shape, values) = try read(experimental, planes: planes, communicator: communicator)
        return try compute(values: values, planes: planes, shape: shape, path: experimental.path, window: window,
                           fdr: fdr, communicator: communicator)
    }

    /// Computes the planes `planes` given in `values` of a map of `shape` read from `path`.
    public static func compute(values: [Float], planes: Range<Int>, shape: XYZ<Int>, path: String, window: Int?,
                               fdr: Double, communicator comm: Communicator) throws -> ConfidenceSlab {
        let tested = try test(values: values, held: planes, planes: planes, shape: shape, path: path, window: window,
                              fdr: fdr, keepingCandidates: true, communicator: comm)
        var confidence = [Float](repeating: 0, count: values.count)
        var mask = [Float](repeating: 0, count: values.count)
        for (i, q) in zip(tested.candidates, tested.adjusted) {
            confidence[i] = Float(1 - q)
            if isMasked(q: q, fdr: fdr) { mask[i] = 1 }
        }
        return ConfidenceSlab(planes: planes, confidence: confidence, mask: mask, rule: tested.rule,
                              region: tested.region, noise: tested.rule.pValues.noise,
                              testedVoxels: tested.testedVoxels, maskedVoxels: tested.maskedVoxels,
                              voxelCount: shape.x * shape.y * shape.z)
    }

    /// The test of a map of `shape` read from `path`, each rank testing its `planes`, given within
    /// its `held` planes in `values`; no per-voxel array is made (the automatic mask of `scale`
    /// classifies its held planes with the rule afterwards). Collective.
    /// `keepingCandidates`: also this rank's candidates' indices and `q` (the confidence map).
    /// - Returns: the mask's rule; the voxels of the whole map tested and in the mask.
    static func test(values: [Float], held: Range<Int>, planes: Range<Int>, shape: XYZ<Int>, path: String,
                     window: Int?, fdr: Double, keepingCandidates: Bool = false,
                     communicator comm: Communicator) throws -> TestedMap {
        precondition(values.count == held.count * shape.x * shape.y, "values do not fill the planes")
        precondition(held.clamped(to: planes) == planes, "the tested planes are not held")
        let region = try comm.agree { () throws -> NoiseRegion in
            let w = window ?? NoiseRegion.defaultWindow(shape: shape)
            guard let region = NoiseRegion(shape: shape, window: w) else {
                throw ConfidenceError.windowTooLarge(path: path, window: w, shape: shape,
                                                     largest: NoiseRegion.largestWindow(shape: shape))
            }
            return region
        }
        let noise = try checkedNoise(values, held: held, planes: planes, shape: shape, region: region, path: path,
                                     comm: comm)

        // The adjustment over all candidates, in the global order of their p-values.
        let ball = ConfidenceBall(shape: shape)
        var tested = 0
        for z in planes {
            for y in 0..<shape.y {
                for x in 0..<shape.x where ball.contains(x: x, y: y, z: z) { tested += 1 }
            }
        }
        let testedVoxels = Int(try comm.allReduceSum([Double(tested)])[0])
        let pValues = VoxelPValues(shape: shape, ball: ball, noise: noise,
                                   bound: FDRConfidence.candidateBound(count: testedVoxels))
        let local = pValues.candidates(values, held: held, planes: planes, indices: keepingCandidates)
        let ranked = try RankedCandidates(local.values, tested: testedVoxels, communicator: comm)
        let rule = ConfidenceMaskRule(pValues: pValues, pLimit: try ranked.maskLimit(fdr: fdr, bound: pValues.bound,
                                                                                    communicator: comm))
        let adjusted = keepingCandidates ? try ranked.adjusted(communicator: comm) : []

        // The voxels in the mask (the candidates, ascending, below the limit), and those of the
        // noise region's cubes in it (a voxel in two cubes twice).
        let limit = rule.pLimit
        let masked = local.values.prefix { $0 < limit }.count
        var noiseMasked = 0
        for cube in region.cubes.cubes {
            for z in cube.z.clamped(to: planes) {
                for y in cube.y {
                    let row = ((z - held.lowerBound) * shape.y + y) * shape.x
                    for x in cube.x {
                        if let p = pValues.candidatePValue(values[row + x], x: x, y: y, z: z), p < limit {
                            noiseMasked += 1
                        }
                    }
                }
            }
        }
        let counts = try comm.allReduceSum([Double(masked), Double(noiseMasked)])
        let noiseFraction = counts[1] / Double(region.voxelCount)
        try comm.agree {
            if noiseFraction > ConfidenceError.signalLimit {
                throw ConfidenceError.signalInNoise(path: path, region: region.summary, percent: 100 * noiseFraction)
            }
        }
        return TestedMap(rule: rule, region: region, candidates: local.payload, adjusted: adjusted,
                         testedVoxels: testedVoxels, maskedVoxels: Int(counts[0]))
    }

    /// What `test` found: the mask's rule, this rank's candidates (with `keepingCandidates`), the
    /// whole map's counts.
    struct TestedMap {
        let rule: ConfidenceMaskRule
        let region: NoiseRegion
        /// The candidates' indices in `values` and their `q` (ascending p-value); empty unless kept.
        let candidates: [Int]
        let adjusted: [Double]
        let testedVoxels: Int
        let maskedVoxels: Int
    }

    /// The noise region's statistics, checked against a masked or constant solvent and against
    /// the corner cubes (ARCHITECTURE §1.6). Collective.
    static func checkedNoise(_ values: [Float], held: Range<Int>, planes: Range<Int>, shape: XYZ<Int>,
                             region: NoiseRegion, path: String, comm: Communicator) throws -> SampleStatistics {
        let noise = try statistics(of: region.cubes, values, planes: held, shape: shape, counting: planes, comm: comm)
        let corners = try statistics(of: region.corners, values, planes: held, shape: shape, counting: planes,
                                     comm: comm)
        try comm.agree {
            if noise.zeroFraction > ConfidenceError.zeroLimit {
                throw ConfidenceError.maskedSolvent(path: path, region: region.summary,
                                                    zeroPercent: 100 * noise.zeroFraction)
            }
            if noise.variance == 0 { throw ConfidenceError.flatNoise(path: path, region: region.summary) }
            // Corners masked to 0 (a spherical mask, say) cannot tell.
            if corners.variance > 0 && noise.variance > ConfidenceError.varianceRatioLimit * corners.variance {
                throw ConfidenceError.noisierThanCorners(path: path, region: region.summary,
                                                         ratio: noise.variance / corners.variance)
            }
        }
        return noise
    }

    /// The statistics of the voxels of `cubes` from every rank's planes, added plane by plane
    /// (`counting`: the planes of `planes` this rank adds, when the ranks' planes overlap).
    static func statistics(of cubes: VoxelCubes, _ values: [Float], planes: Range<Int>, shape: XYZ<Int>,
                           counting: Range<Int>? = nil, comm: Communicator) throws -> SampleStatistics {
        let n = shape.z
        let local = cubes.planeSums(values, held: planes, shape: shape, counting: counting)
        let sums = try comm.allReduceSum(local.sums + local.zeros)
        let mean = SampleStatistics.mean(sums: Array(sums[..<n]), count: cubes.voxelCount)
        let squares = try comm.allReduceSum(cubes.planeSquares(values, held: planes, shape: shape, mean: mean,
                                                               counting: counting))
        return SampleStatistics(sums: Array(sums[..<n]), zeros: Array(sums[n...]), squares: squares,
                                count: cubes.voxelCount)
    }

    /// This rank's `planes` of the experimental map as `scale` forms it (`ExperimentalPlanes`;
    /// half maps on one grid, `ScalingInputs.checkSameGrid`), its planes `checked` (default: all)
    /// checked finite, and the map's shape. Collective; failures are agreed.
    static func read(_ experimental: ExperimentalInput, planes: Range<Int>, checked: Range<Int>? = nil,
                     communicator comm: Communicator) throws -> (XYZ<Int>, [Float]) {
        let readers = try comm.agree {
            let readers = try experimental.paths.map { try MRCSlabReader(path: $0) }
            for reader in readers.dropFirst() {
                try ScalingInputs.checkSameGrid(reader.grid, of: reader.path, as: readers[0].grid, of: readers[0].path)
            }
            return readers
        }
        let read = try ExperimentalPlanes.read(readers, planes: planes, checked: checked ?? planes, communicator: comm)
        return (readers[0].grid.shape, read.values)
    }
}
