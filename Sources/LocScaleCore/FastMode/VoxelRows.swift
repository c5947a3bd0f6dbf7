/// The voxels to scale on this process's planes of a `SlabGrid`, by grid row: voxel `n` lies in
/// local row `r` (`r = plane · ny + y`) when `first[r] ≤ n < first[r + 1]`, at column `x[n]`.
/// Two bytes per voxel (the order of the voxel list is increasing grid index), so that the list
/// costs little next to the grid; the passes over voxels go row by row.
public struct VoxelRows: Sendable {
    /// Column (x) of each voxel.
    let x: [UInt16]
    /// `first[r] ..< first[r + 1]`: the voxels in local row `r`.
    let first: [Int]
    /// Voxels per row of the grid (`nx`).
    let width: Int

    /// `gridIndices`: increasing linear indices `(z·ny + y)·nx + x` into this process's planes
    /// (`rowCount = planes · ny` rows of `width = nx` voxels).
    public init(gridIndices: some Sequence<Int>, rowCount: Int, width: Int) {
        precondition(width <= Int(UInt16.max) + 1, "grid rows of more than 65536 voxels")
        var x: [UInt16] = [], first = [Int](repeating: 0, count: rowCount + 1)
        var row = 0
        for i in gridIndices {
            let r = i / width
            precondition(r >= row && r < rowCount, "voxel indices must increase and lie in the planes")
            while row < r { row += 1; first[row] = x.count }
            x.append(UInt16(i % width))
        }
        while row < rowCount { row += 1; first[row] = x.count }
        self.x = x
        self.first = first
        self.width = width
    }

    /// The voxels of `grid`'s local planes at `gridIndices` (see `init(gridIndices:rowCount:width:)`).
    public init(gridIndices: some Sequence<Int>, grid: SlabGrid) {
        self.init(gridIndices: gridIndices, rowCount: grid.planes.count * grid.size.y, width: grid.size.x)
    }

    public var count: Int { x.count }

    /// Calls `body(n, i)` for every voxel `n` in order, `i` its linear index into the local planes.
    public func forEach(_ body: (_ n: Int, _ index: Int) -> Void) {
        for r in 0 ..< first.count - 1 {
            for n in first[r] ..< first[r + 1] { body(n, r * width + Int(x[n])) }
        }
    }
}
