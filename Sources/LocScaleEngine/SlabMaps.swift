import LocScaleCore
import LocScaleParallel

/// The z-planes of one rank: `tiling`, the planes it owns and writes (all ranks' tilings cover
/// the box's planes once; in exact mode not in rank order, `ExactSlabPlan`), and `held`, the
/// planes its computation reads (the tiling and the halo its windows reach).
struct RankPlanes {
    let tiling: Range<Int>
    let held: Range<Int>
    /// Every rank's tiling.
    let tilings: [Range<Int>]

    /// The ranks in the order of their tilings' planes: what adds over the ranks (`fold`) or
    /// names the first failure (`agree`) takes them in this order, as one process takes the planes.
    var order: [Int] { RankOrder(planes: tilings).ranks }
}

/// How a method splits the map among the ranks, with what it needs.
enum MethodSlabs {
    case exact(ExactSlabPlan)
    /// Fast mode's grid in FFTW-MPI's slabs.
    case fast(FastPlan, DistributedSlabGrid)

    /// Makes the split of `setup`'s method (collective: fast mode plans its distributed FFTs).
    init(setup: RunSetup, communicator comm: Communicator, planning: FFTPlanning, threads: Int) throws {
        switch setup.method {
        case .exact:
            self = .exact(ExactSlabPlan(window: setup.window, rule: setup.rule, planeCounts: setup.planeCounts,
                                        ranks: comm.size))
        case .fast(let plan):
            self = .fast(plan, try DistributedSlabGrid(size: plan.box.size, communicator: comm, planning: planning,
                                                       threads: threads))
        }
    }

    /// Exact mode's split with every rank also holding the planes `estimator` reads for its slab
    /// (the local B map; nil: unchanged). Fast mode's held planes stay its tiling: the B map reads
    /// its halo apart (`LocalBSlab`), so that the filter bank's slabs do not grow.
    func holding(_ estimator: (any LocalBEstimator)?, depth: Int) -> MethodSlabs {
        guard let estimator, case .exact(let plan) = self else { return self }
        return .exact(plan.holding { estimator.heldPlanes(for: $0, depth: depth) })
    }

    /// Rank `rank`'s planes: in exact mode its slab of equal work (`ExactSlabPlan`: rank 0 the
    /// slab holding the fewest planes) and the planes its windows reach; in fast mode the box
    /// planes under its slab of the grid (the first rank also those below the grid, the last
    /// those above), which its grid slab is cut from.
    func planes(of rank: Int) -> RankPlanes {
        switch self {
        case .exact(let plan):
            let cores = plan.cores
            return RankPlanes(tiling: cores[rank], held: plan.held[rank], tilings: cores)
        case .fast(let plan, let slabs):
            let tilings = Self.fastTilings(box: plan.box, gridPlanes: slabs.planesOfAllRanks)
            return RankPlanes(tiling: tilings[rank], held: tilings[rank], tilings: tilings)
        }
    }

    /// The box planes under each rank's grid planes `gridPlanes` (which tile the grid's planes),
    /// extended so that they tile the box's planes.
    static func fastTilings(box: FastBox, gridPlanes: [Range<Int>]) -> [Range<Int>] {
        let inBox = { (z: Int) in max(0, min(box.shape.z, box.start.z + z)) }
        var bounds = [0] + gridPlanes.dropFirst().map { inBox($0.lowerBound) } + [box.shape.z]
        for r in 1..<bounds.count { bounds[r] = max(bounds[r], bounds[r - 1]) }
        return (0..<gridPlanes.count).map { bounds[$0] ..< bounds[$0 + 1] }
    }
}

/// One rank's planes of the run's maps, read straight from the files (or received from the
/// ranks that simulated the model map), checked, and brought to the scale the kernels compute
/// at, with what the run derives from all ranks' planes: the normalisation, the values that
/// extend cubes beyond the box, the model map's range. Every value that depends on the whole map
/// is found by collectives that give the same bits on every rank for any rank count.
struct SlabMaps {
    /// The held planes of the experimental map (half maps averaged) and the model map, normalised.
    var experimental: [Float]
    var model: [Float]
    /// The tiling planes of the mask; nil without a mask.
    var mask: [Float]?
    let normalisation: MapNormalisation
    /// Mean of each map outside the mask (over the whole map without one), normalised.
    let experimentalOutside: Float, modelOutside: Float
    /// Bytes this rank read from the files.
    let bytesRead: Int
    /// The input maps for the report, on the validation's planes (only with `--report`).
    let report: ReportSlabs?

    /// Reads this rank's planes of `files` (and of the `simulated` model map) and checks them
    /// (collective). Every failure reaches every rank as one `AgreedFailure`: a file truncated in
    /// a slab, a non-finite voxel (the first in the map), a model map too large for the window.
    init(_ files: InputFiles, simulated: PlaneSlabs?, planes: RankPlanes, job: ScaleJob,
         communicator comm: Communicator) throws {
        let shape = files.grid.shape, plane = shape.x * shape.y, order = planes.order
        var bytes = 0
        func read(_ reader: MRCSlabReader, _ range: Range<Int>) throws -> [Float] {
            let slab = try comm.agree(order: order) { try reader.read(planes: range) }
            bytes += slab.bytesRead
            return slab.values
        }
        // The tiling's part of the held planes: each plane of the map is checked by one rank, and
        // the failure reported is the first rank's in plane order (the first bad voxel of the map).
        let inner = (planes.tiling.lowerBound - planes.held.lowerBound) * plane
            ..< (planes.tiling.upperBound - planes.held.lowerBound) * plane
        func checkFinite(_ values: [Float], _ path: String) throws {
            try comm.agree(order: order) {
                try ScalingInputs.checkFinite(values[inner], shape: shape, firstPlane: planes.tiling.lowerBound,
                                              path: path)
            }
        }

        let experimentalPlanes = try ExperimentalPlanes.read(files.experimental, planes: planes.held,
                                                             checked: planes.tiling, order: order,
                                                             communicator: comm)
        experimental = experimentalPlanes.values
        bytes += experimentalPlanes.bytesRead
        if let reader = files.model {
            model = try read(reader, planes.held)
        } else if let simulated {
            model = try simulated.planes(planes.held, planeStride: plane, communicator: comm)
        } else {
            preconditionFailure("no model map")
        }
        try checkFinite(model, job.model.path)
        mask = try files.mask.map { try read($0, planes.tiling) }

        let limits = try Self.largest(experimental[inner], model[inner], firstIndex: planes.tiling.lowerBound * plane,
                                      communicator: comm)
        try comm.agree {
            try MapNormalisation.checkRange(largest: limits.model, at: limits.modelIndex, shape: shape,
                                            path: job.model.path, window: files.window)
        }
        normalisation = MapNormalisation(experimentalExponent: MapNormalisation.exponent(largest: limits.experimental),
                                         modelExponent: MapNormalisation.exponent(largest: limits.model.magnitude))
        let outsideE = try Self.meanOutside(experimental[inner], mask: mask, voxels: files.grid.voxelCount,
                                            order: order, communicator: comm)
        let outsideM = try Self.meanOutside(model[inner], mask: mask, voxels: files.grid.voxelCount,
                                            order: order, communicator: comm)
        experimentalOutside = normalisation.normalisedExperimental(outsideE)
        modelOutside = normalisation.normalisedModel(outsideM)

        report = job.outputs.reportDirectory == nil ? nil : try ReportSlabs(
            experimental: experimental[inner], model: model[inner], mask: mask,
            halfMaps: files.experimental.count == 2 ? files.experimental : [], scaling: planes, grid: files.grid,
            communicator: comm)
        bytesRead = bytes + (report?.bytesRead ?? 0)
        normalisation.normaliseExperimental(&experimental)
        normalisation.normaliseModel(&model)
    }

    /// The largest magnitude of the experimental map, and the model map's first value of largest
    /// magnitude with its index, over the slabs of all ranks (collective; `firstIndex`: the linear
    /// index of this rank's first value).
    private static func largest(_ experimental: ArraySlice<Float>, _ model: ArraySlice<Float>, firstIndex: Int,
                                communicator comm: Communicator)
        throws -> (experimental: Float, model: Float, modelIndex: Int) {
        let e = experimental.reduce(Float(0)) { max($0, $1.magnitude) }
        var m: Float = 0, mIndex = -1
        for i in model.indices where mIndex < 0 || model[i].magnitude > m.magnitude {
            (m, mIndex) = (model[i], i - model.startIndex + firstIndex)
        }
        // Every rank's [e, m, index]; the model's first largest is the one of lowest index (ranks
        // need not hold their planes in rank order).
        let all = try comm.allGather([Double(e), Double(m), Double(mIndex)])
        var best = (experimental: Float(0), model: Float(0), modelIndex: 0)
        var found = false
        for r in 0..<comm.size {
            best.experimental = max(best.experimental, Float(all[3 * r]))
            let value = Float(all[3 * r + 1]), index = Int(all[3 * r + 2])
            if index >= 0 && (!found || value.magnitude > best.model.magnitude
                              || value.magnitude == best.model.magnitude && index < best.modelIndex) {
                (best.model, best.modelIndex, found) = (value, index, true)
            }
        }
        return best
    }

    /// Mean of a map over the voxels outside `mask` (all voxels when none are, or without a
    /// mask), from every rank's tiling planes `values`: the sum runs through the ranks in the
    /// order of their planes, `order` (`Communicator.fold`), so it rounds exactly as one loop over
    /// the whole map (`ScalingInputs.meanOutsideMask`). Collective.
    private static func meanOutside(_ values: ArraySlice<Float>, mask: [Float]?, voxels: Int, order: [Int],
                                    communicator comm: Communicator) throws -> Float {
        let outside = mask.map { mask in mask.reduce(0) { $0 + ($1 < 0.5 ? 1 : 0) } } ?? 0
        let count = Int(try comm.allReduceSum([Double(outside)])[0])
        if count > 0, let mask {
            let sum = try comm.fold(0, order: order) { start in
                var total = start
                for (k, v) in values.enumerated() where mask[k] < 0.5 { total += Double(v) }
                return total
            }
            return Float(sum / Double(count))
        }
        let sum = try comm.fold(0, order: order) { start in values.reduce(start) { $0 + Double($1) } }
        return Float(sum / Double(voxels))
    }
}
