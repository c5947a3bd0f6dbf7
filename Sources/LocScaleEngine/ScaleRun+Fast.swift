import Foundation
import LocScaleCore
import LocScaleParallel

extension ScaleRun {
    /// Fast mode (FASTMODE.md): the grid of `FastBox` in z-slabs, one filter bank pass per shell
    /// with whole-grid FFTs (plane and column transforms, the same for any rank count) and halos of
    /// a window for the cube sums along z.
    /// - Returns: the whole output map on rank 0 ([] elsewhere), and the plane imbalance.
    func scaleFast(_ whole: inout WholeMaps, setup: RunSetup, plan: FastPlan,
                   clock: PhaseClock) throws -> ([Float], Double) {
        let shape = setup.shape
        let box = plan.box
        let slabs = try DistributedSlabGrid(size: box.size, communicator: comm, planning: job.planning,
                                            threads: job.threads)
        let planes = slabs.planes, plane = box.size.x * box.size.y
        let inBox = { (z: Int) in max(0, min(shape.z, box.start.z + z)) }
        clock.timings.planes = inBox(planes.lowerBound) ..< inBox(planes.upperBound)
        let counts = slabs.planesOfAllRanks.map { $0.count * plane }
        let displacements = slabs.planesOfAllRanks.map { $0.lowerBound * plane }

        // Rank 0 lays the maps and the voxel flags out on the grid and hands out the slabs.
        let voxels: [Int]
        do {
            var flags = [Float](repeating: 0, count: comm.isRoot ? box.count : 0)
            for i in whole.voxels { flags[box.gridIndex(ofBoxIndex: i)] = 1 }
            let slabFlags = try comm.scatter(flags, counts: counts, displacements: displacements)
            voxels = slabFlags.indices.filter { slabFlags[$0] != 0 }
        }
        func slab(of map: inout [Float], outside: UInt32) throws -> [Float] {
            let grid = comm.isRoot ? box.values(of: map, planes: 0 ..< box.size.z, outside: Float(bitPattern: outside)) : []
            map = []
            return try comm.scatter(grid, counts: counts, displacements: displacements)
        }
        var slabE = try slab(of: &whole.experimental, outside: setup.experimentalOutside)
        var slabM = try slab(of: &whole.model, outside: setup.modelOutside)
        clock.end(.scatter)
        killForFaultTest()

        clock.timings.voxels = voxels.count
        let scaler = FastScaler(grid: slabs, window: setup.window, padFactor: plan.padFactor,
                                exactShells: plan.exactShells, threads: job.threads)
        let counter = ScalingProgress(total: voxels.count)
        let reporter = comm.isRoot && job.progress ? ProgressLine(progress: counter) : nil
        reporter?.start()
        let values = try scaler.scale(experimental: &slabE, model: &slabM, voxels: voxels, progress: counter)
        reporter?.finish()
        clock.end(.compute)
        clock.timings.seconds[Phase.halo.rawValue] = slabs.haloSeconds
        clock.timings.seconds[Phase.compute.rawValue] -= slabs.haloSeconds

        var slabOut = [Float](repeating: 0, count: planes.count * plane)
        for (n, i) in voxels.enumerated() { slabOut[i] = values[n] }
        let gridOut = try comm.gather(slabOut, counts: counts, displacements: displacements, total: box.count)
        var gathered = [Float](repeating: 0, count: comm.isRoot ? shape.x * shape.y * shape.z : 0)
        for i in whole.voxels { gathered[i] = gridOut[box.gridIndex(ofBoxIndex: i)] }
        whole.voxels = []
        clock.end(.gather)
        return (gathered, SlabPartition(ranges: slabs.planesOfAllRanks).imbalance)
    }
}
