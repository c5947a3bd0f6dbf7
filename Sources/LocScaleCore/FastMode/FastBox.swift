/// Where the fast mode's grid lies in the map's box: the bounding box of the scaled voxels,
/// widened by their cubes and by one more window on every side (so that the whole-grid FFTs do
/// not wrap one side's filters into the other's cubes), then grown to FFT-friendly sizes. Grid
/// voxels outside the map's box hold the map's mean outside the mask, the value exact mode
/// extends its cubes with. The cost of the fast mode follows this grid, not the number of voxels.
public struct FastBox: Equatable, Sendable {
    /// The map's box, in voxels.
    public let shape: XYZ<Int>
    /// Box index of the grid's voxel (0, 0, 0) along x, y, z (negative where the grid extends
    /// beyond the box).
    public let start: XYZ<Int>
    /// Grid size in voxels: even and 2,3,5,7-smooth along each axis.
    public let size: XYZ<Int>

    /// The grid for scaling `voxels` (linear (z, y, x) indices of a box of `shape`) with window `w`.
    public init(voxels: [Int], shape: XYZ<Int>, window w: Int) {
        precondition(!voxels.isEmpty)
        self.shape = shape
        var lower = XYZ(Int.max, Int.max, Int.max), upper = XYZ(Int.min, Int.min, Int.min)
        let plane = shape.x * shape.y
        for i in voxels {
            let c = XYZ(i % shape.x, (i / shape.x) % shape.y, i / plane)
            for axis in 0..<3 {
                lower[axis] = min(lower[axis], c[axis])
                upper[axis] = max(upper[axis], c[axis])
            }
        }
        let centre = centreIndex(window: w)
        var start = XYZ(0, 0, 0), size = XYZ(0, 0, 0)
        for axis in 0..<3 {
            // The cubes span [lower − centre, upper + w − 1 − centre]; one window more each side.
            let span = upper[axis] - lower[axis] + w + 2 * w
            var n = span
            while !isSmooth(n) || n % 2 == 1 { n += 1 }
            size[axis] = n
            start[axis] = lower[axis] - centre - w - (n - span) / 2
        }
        self.start = start
        self.size = size
    }

    /// A grid given by its placement (as `init(voxels:shape:window:)` chose it elsewhere).
    public init(shape: XYZ<Int>, start: XYZ<Int>, size: XYZ<Int>) {
        self.shape = shape
        self.start = start
        self.size = size
    }

    /// Voxels in the grid.
    public var count: Int { size.x * size.y * size.z }

    /// Grid planes `planes` of `map` (a box of `shape`, (z, y, x)), x fastest, with `outside`
    /// where the grid leaves the box.
    public func values(of map: [Float], planes: Range<Int>, outside: Float) -> [Float] {
        var result = [Float](repeating: outside, count: planes.count * size.y * size.x)
        for z in planes {
            let bz = start.z + z
            guard bz >= 0, bz < shape.z else { continue }
            for y in 0..<size.y {
                let by = start.y + y
                guard by >= 0, by < shape.y else { continue }
                let from = (bz * shape.y + by) * shape.x, to = ((z - planes.lowerBound) * size.y + y) * size.x
                for x in max(0, -start.x) ..< min(size.x, shape.x - start.x) {
                    result[to + x] = map[from + start.x + x]
                }
            }
        }
        return result
    }

    /// The grid index (z, y, x) of box voxel `i`.
    public func gridIndex(ofBoxIndex i: Int) -> Int {
        let x = i % shape.x - start.x, y = (i / shape.x) % shape.y - start.y, z = i / (shape.x * shape.y) - start.z
        return (z * size.y + y) * size.x + x
    }
}

/// Fast-mode scaling of a whole map in one process (`--method fast` without MPI, and tests).
public enum FastScaling {
    /// The scaled map: `voxels` of `inputs` scaled by the filter bank, every other voxel 0.
    /// `padFactor` names the exact mode whose result is estimated.
    public static func run(_ inputs: ScalingInputs, voxels: [Int], window: Int, padFactor: Double,
                           exactShells: Int = 1, threads: Int, planning: FFTPlanning = .estimate,
                           diagnostics: FastDiagnostics = FastDiagnostics()) throws -> Volume {
        let em = inputs.experimental.volume, model = inputs.model.volume
        let box = FastBox(voxels: voxels, shape: em.grid.shape, window: window)
        let grid = LocalSlabGrid(size: box.size, threads: threads, planning: planning)
        let planes = 0 ..< box.size.z
        var e = box.values(of: em.values, planes: planes, outside: inputs.meanOutsideMask(em))
        var m = box.values(of: model.values, planes: planes, outside: inputs.meanOutsideMask(model))
        let scaler = FastScaler(grid: grid, window: window, padFactor: padFactor, exactShells: exactShells, threads: threads)
        let values = try scaler.scale(experimental: &e, model: &m, voxels: voxels.map(box.gridIndex(ofBoxIndex:)),
                                      diagnostics: diagnostics)
        var result = Volume(zerosOn: em.grid)
        for (n, i) in voxels.enumerated() { result.values[i] = values[n] }
        return result
    }
}
