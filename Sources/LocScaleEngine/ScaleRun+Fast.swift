import Foundation
import LocScaleCore
import LocScaleParallel

extension ScaleRun {
    /// Fast mode (FASTMODE.md): the grid of `FastBox` in z-slabs, one filter bank pass per shell
    /// with whole-grid FFTs (plane and column transforms, the same for any rank count) and halos of
    /// a window for the cube sums along z. Each rank cuts its grid slab from the box planes it read
    /// (`MethodSlabs.fastTilings`), with the mean outside the mask where the grid leaves the box.
    /// - Returns: this rank's tiling planes of the output, and the plane imbalance.
    func scaleFast(_ maps: inout SlabMaps, selection: VoxelSelection, setup: RunSetup, plan: FastPlan,
                   slabs: DistributedSlabGrid, clock: PhaseClock) throws -> ([Float], Double) {
        let shape = setup.shape, box = plan.box
        let planes = slabs.planes
        let tiling = MethodSlabs.fastTilings(box: box, gridPlanes: slabs.planesOfAllRanks)[comm.rank]
        let mapPlane = shape.x * shape.y, gridPlane = box.size.x * box.size.y
        let inBox = { (z: Int) in max(0, min(shape.z, box.start.z + z)) }
        clock.timings.planes = inBox(planes.lowerBound) ..< inBox(planes.upperBound)

        // The box voxels in this rank's planes, by row of its grid slab (ascending); the maps'
        // planes go into the grid's buffers, each dropped as soon as it is there.
        let gridOffset = planes.lowerBound * gridPlane
        let voxels = VoxelRows(gridIndices: selection.voxels(in: tiling, mask: maps.mask)
                                   .lazy.map { box.gridIndex(ofBoxIndex: $0) - gridOffset }, grid: slabs)
        maps.mask = nil
        let slabE = slabs.makeBuffer(), slabM = slabs.makeBuffer()
        box.fill(slabE.pointer, rowLength: slabs.rowLength, from: maps.experimental, firstPlane: tiling.lowerBound,
                 planes: planes, outside: maps.experimentalOutside)
        maps.experimental = []
        box.fill(slabM.pointer, rowLength: slabs.rowLength, from: maps.model, firstPlane: tiling.lowerBound,
                 planes: planes, outside: maps.modelOutside)
        maps.model = []
        clock.end(.scatter)
        killForFaultTest(at: "compute")

        clock.timings.voxels = voxels.count
        let scaler = FastScaler(grid: slabs, window: setup.window, padFactor: plan.padFactor,
                                exactShells: plan.exactShells, threads: job.threads)
        let counter = ScalingProgress(total: voxels.count)
        let reporter = comm.isRoot && job.progress ? ProgressLine(progress: counter) : nil
        reporter?.start()
        let values = try scaler.scale(experimental: slabE, model: slabM, voxels: voxels, progress: counter)
        reporter?.finish()
        clock.end(.compute)
        clock.timings.seconds[Phase.halo.rawValue] = slabs.haloSeconds
        clock.timings.seconds[Phase.compute.rawValue] -= slabs.haloSeconds

        var out = [Float](repeating: 0, count: tiling.count * mapPlane)
        voxels.forEach { n, i in
            out[box.boxIndex(ofGridIndex: i + gridOffset) - tiling.lowerBound * mapPlane] = values[n]
        }
        return (out, SlabPartition(ranges: slabs.planesOfAllRanks).imbalance)
    }
}
