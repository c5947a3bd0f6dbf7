/// The voxels to scale on this process's planes, found by grid row: the z passes of the cube
/// sums visit rows, and read their results off at these voxels instead of writing whole planes.
struct VoxelRows: Sendable {
    /// Index of each voxel in the grid's buffer layout (rows of `rowLength` floats), increasing.
    let positions: [Int]
    /// `first[r] ..< first[r + 1]`: the voxels in local row `r = plane · ny + y`.
    let first: [Int]

    /// `voxels`: increasing linear indices `(z·ny + y)·nx + x` into this process's planes.
    init(voxels: [Int], grid: SlabGrid) {
        let size = grid.size
        positions = voxels.map { ($0 / size.x) * grid.rowLength + $0 % size.x }
        let rows = grid.planes.count * size.y
        var first = [Int](repeating: voxels.count, count: rows + 1)
        var n = voxels.count
        for r in stride(from: rows - 1, through: 0, by: -1) {
            while n > 0 && voxels[n - 1] / size.x >= r { n -= 1 }
            first[r] = n
        }
        self.first = first
    }

    var count: Int { positions.count }
}
