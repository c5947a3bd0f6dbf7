/// Fast-mode scaling of a whole map in one process (`--method fast` without MPI, and tests).
public enum FastScaling {
    /// The scaled map: `voxels` of `inputs` scaled by the filter bank, every other voxel 0.
    /// `padFactor` names the exact mode whose result is estimated. `observer` gets every shell's
    /// local powers (voxels in the order of `voxels`).
    public static func run(_ inputs: ScalingInputs, voxels: [Int], window: Int, padFactor: Double,
                           exactShells: Int = 1, threads: Int, planning: FFTPlanning = .estimate,
                           diagnostics: FastDiagnostics = FastDiagnostics(),
                           observer: (any ShellPowerSweepObserver)? = nil) throws -> Volume {
        let em = inputs.experimental.volume, model = inputs.model.volume
        let box = FastBox(voxels: voxels, shape: em.grid.shape, window: window)
        let grid = LocalSlabGrid(size: box.size, threads: threads, planning: planning)
        let planes = 0 ..< box.size.z
        let e = grid.makeBuffer(), m = grid.makeBuffer()
        box.fill(e.pointer, rowLength: grid.rowLength, from: em.values, planes: planes,
                 outside: inputs.meanOutsideMask(em))
        box.fill(m.pointer, rowLength: grid.rowLength, from: model.values, planes: planes,
                 outside: inputs.meanOutsideMask(model))
        let scaler = FastScaler(grid: grid, window: window, padFactor: padFactor, exactShells: exactShells, threads: threads)
        let rows = VoxelRows(gridIndices: voxels.lazy.map(box.gridIndex(ofBoxIndex:)), grid: grid)
        let values = try scaler.scale(experimental: e, model: m, voxels: rows, diagnostics: diagnostics,
                                      observer: observer)
        var result = Volume(zerosOn: em.grid)
        for (n, i) in voxels.enumerated() { result.values[i] = values[n] }
        return result
    }
}
