import Foundation
import LocScaleCore
import LocScaleParallel

extension ScaleRun {
    /// Exact mode: slabs with equal masked voxels, each rank holding the planes its windows
    /// reach (read from the files), every voxel scaled alone.
    /// - Returns: this rank's planes of the output (its slab of `plan`), and the work imbalance.
    func scaleExact(_ maps: inout SlabMaps, selection: VoxelSelection, setup: RunSetup, plan: ExactSlabPlan,
                    clock: PhaseClock) throws -> ([Float], Double) {
        let shape = setup.shape
        let plane = shape.x * shape.y
        let layout = SpectrumLayout(window: setup.window, rule: setup.rule)
        let core = plan.cores[comm.rank], held = plan.held[comm.rank]
        clock.timings.planes = core
        let voxels = selection.voxels(in: core, mask: maps.mask)
        maps.mask = nil
        killForFaultTest(at: "compute")

        // This rank's voxels, scaled with its threads.
        clock.timings.voxels = voxels.count
        let fft = CubeFFT(padded: layout.padded, filled: layout.window, planning: job.planning)
        let counter = ScalingProgress(total: voxels.count)
        let reporter = comm.isRoot && job.progress ? ProgressLine(progress: counter) : nil
        reporter?.start()
        let (experimentalOutside, modelOutside) = (maps.experimentalOutside, maps.modelOutside)
        let values = maps.experimental.withUnsafeBufferPointer { e in
            maps.model.withUnsafeBufferPointer { m in
                let source = WindowSource(experimental: e, model: m, shape: shape, firstPlane: held.lowerBound,
                                          experimentalOutside: experimentalOutside, modelOutside: modelOutside)
                return LocalScaling.scale(source, voxels: voxels, layout: layout, fft: fft,
                                          threads: job.threads, progress: counter)
            }
        }
        maps.experimental = []
        maps.model = []
        var coreOut = [Float](repeating: 0, count: core.count * plane)
        for (n, i) in voxels.enumerated() { coreOut[i - core.lowerBound * plane] = values[n] }
        reporter?.finish()
        clock.end(.compute)
        return (coreOut, plan.partition.imbalance)
    }
}
