import Foundation
import LocScaleCore
import LocScaleParallel

extension ScaleRun {
    /// Exact mode: slabs with equal masked voxels, halos of a window, every voxel scaled alone.
    /// - Returns: the whole output map on rank 0 ([] elsewhere), and the work imbalance.
    func scaleExact(_ whole: inout WholeMaps, setup: RunSetup, clock: PhaseClock) throws -> ([Float], Double) {
        let shape = setup.shape
        let plane = shape.x * shape.y
        let layout = SpectrumLayout(window: setup.window, rule: setup.rule)
        let plan = ExactSlabPlan(window: setup.window, rule: setup.rule, planeCounts: setup.planeCounts,
                                 ranks: comm.size)
        let partition = plan.partition
        let core = partition.ranges[comm.rank]
        clock.timings.planes = core
        let counts = partition.ranges.map { $0.count * plane }
        let displacements = partition.ranges.map { $0.lowerBound * plane }

        // Core slabs of both maps; which voxels to scale travels as flags, and each rank keeps
        // the list of its own. Every copy is released as soon as the next one exists, so memory
        // peaks at about two maps beyond the slabs.
        let voxels: [Int]
        do {
            var flags = [Float](repeating: 0, count: comm.isRoot ? shape.x * shape.y * shape.z : 0)
            for i in whole.voxels { flags[i] = 1 }
            whole.voxels = []
            let coreFlags = try comm.scatter(flags, counts: counts, displacements: displacements)
            voxels = Array(coreFlags.indices.lazy.filter { coreFlags[$0] != 0 }.map { $0 + core.lowerBound * plane })
        }
        var coreE = try comm.scatter(whole.experimental, counts: counts, displacements: displacements)
        whole.experimental = []
        var coreM = try comm.scatter(whole.model, counts: counts, displacements: displacements)
        whole.model = []
        clock.end(.scatter)

        // Halos: the planes of other ranks' cores that this rank's windows reach.
        let held = plan.held[comm.rank]
        let slabE = try coreE.withUnsafeBufferPointer {
            try comm.planes(held, core: core, local: $0, planeStride: plane, transfers: plan.transfers)
        }
        coreE = []
        let slabM = try coreM.withUnsafeBufferPointer {
            try comm.planes(held, core: core, local: $0, planeStride: plane, transfers: plan.transfers)
        }
        coreM = []
        clock.end(.halo)
        killForFaultTest()

        // This rank's voxels, scaled with its threads.
        clock.timings.voxels = voxels.count
        let fft = CubeFFT(padded: layout.padded, filled: layout.window, planning: job.planning)
        let counter = ScalingProgress(total: voxels.count)
        let reporter = comm.isRoot && job.progress ? ProgressLine(progress: counter) : nil
        reporter?.start()
        var coreOut = [Float](repeating: 0, count: core.count * plane)
        let values = slabE.withUnsafeBufferPointer { e in
            slabM.withUnsafeBufferPointer { m in
                let source = WindowSource(experimental: e, model: m, shape: shape, firstPlane: held.lowerBound,
                                          experimentalOutside: Float(bitPattern: setup.experimentalOutside),
                                          modelOutside: Float(bitPattern: setup.modelOutside))
                return LocalScaling.scale(source, voxels: voxels, layout: layout, fft: fft,
                                          threads: job.threads, progress: counter)
            }
        }
        for (n, i) in voxels.enumerated() { coreOut[i - core.lowerBound * plane] = values[n] }
        reporter?.finish()
        clock.end(.compute)

        let gathered = try comm.gather(coreOut, counts: counts, displacements: displacements, total: shape.x * shape.y * shape.z)
        clock.end(.gather)
        return (gathered, partition.imbalance)
    }
}
