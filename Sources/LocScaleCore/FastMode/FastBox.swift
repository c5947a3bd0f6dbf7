/// Where the fast mode's grid lies in the map's box: the bounding box of the scaled voxels,
/// widened by their cubes and by one more window on every side (so that the whole-grid FFTs do
/// not wrap one side's filters into the other's cubes), then grown to FFT-friendly sizes. Grid
/// voxels outside the map's box hold the map's mean outside the mask, the value exact mode
/// extends its cubes with. The cost of the fast mode follows this grid, not the number of voxels.
public struct FastBox: Equatable, Codable, Sendable {
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
        var lower = XYZ(Int.max, Int.max, Int.max), upper = XYZ(Int.min, Int.min, Int.min)
        let plane = shape.x * shape.y
        for i in voxels {
            let c = XYZ(i % shape.x, (i / shape.x) % shape.y, i / plane)
            for axis in 0..<3 {
                lower[axis] = min(lower[axis], c[axis])
                upper[axis] = max(upper[axis], c[axis])
            }
        }
        self.init(lower: lower, upper: upper, shape: shape, window: w)
    }

    /// The grid for scaling voxels whose bounding box is `lower…upper` (box indices, inclusive).
    public init(lower: XYZ<Int>, upper: XYZ<Int>, shape: XYZ<Int>, window w: Int) {
        self.shape = shape
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

    /// Grid planes `planes` of `map` (a box of `shape`, (z, y, x)) into `buffer`, x fastest,
    /// `rowLength` floats per row (a `SlabGrid`'s layout), with `outside` where the grid leaves
    /// the box. `map` may hold only the box planes from `firstPlane` on (a slab), as long as it
    /// holds every box plane the grid planes lie on.
    public func fill(_ buffer: UnsafeMutablePointer<Float>, rowLength: Int, from map: [Float], firstPlane: Int = 0,
                     planes: Range<Int>, outside: Float) {
        for z in planes {
            let bz = start.z + z
            let inBox = bz >= 0 && bz < shape.z
            precondition(!inBox || (bz >= firstPlane && (bz - firstPlane + 1) * shape.y * shape.x <= map.count),
                         "the slab does not hold plane \(bz)")
            for y in 0..<size.y {
                let by = start.y + y
                let to = buffer + ((z - planes.lowerBound) * size.y + y) * rowLength
                to.update(repeating: outside, count: size.x)
                guard inBox, by >= 0, by < shape.y else { continue }
                let from = ((bz - firstPlane) * shape.y + by) * shape.x
                for x in max(0, -start.x) ..< min(size.x, shape.x - start.x) { to[x] = map[from + start.x + x] }
            }
        }
    }

    /// The box index of grid voxel `(z·ny + y)·nx + x` (inside the box).
    public func boxIndex(ofGridIndex g: Int) -> Int {
        let x = g % size.x + start.x, y = (g / size.x) % size.y + start.y, z = g / (size.x * size.y) + start.z
        return (z * shape.y + y) * shape.x + x
    }

    /// The grid index (z, y, x) of box voxel `i`.
    public func gridIndex(ofBoxIndex i: Int) -> Int {
        let x = i % shape.x - start.x, y = (i / shape.x) % shape.y - start.y, z = i / (shape.x * shape.y) - start.z
        return (z * size.y + y) * size.x + x
    }
}
