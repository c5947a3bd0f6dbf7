/// The voxels to scale on this process's planes of a `SlabGrid`, by grid row: voxel `n` lies in
/// local row `r` (`r = plane · ny + y`) when `first[r] ≤ n < first[r + 1]`, its column given by
/// the row's bits (the voxel list is in increasing grid index). One bit per grid voxel and a
/// count per row, so that the list costs little next to the grid (a 32nd of it as floats); the
/// passes over voxels go row by row.
public struct VoxelRows: Sendable {
    /// `first[r] ..< first[r + 1]`: the voxels in local row `r`.
    let first: [Int]
    /// Per row, `wordsPerRow` words: bit `x % 64` of word `x / 64` is set where column `x` is a voxel.
    private let bits: [UInt64]
    private let wordsPerRow: Int
    /// Voxels per row of the grid (`nx`).
    let width: Int

    /// `gridIndices`: increasing linear indices `(z·ny + y)·nx + x` into this process's planes
    /// (`rowCount = planes · ny` rows of `width = nx` voxels).
    public init(gridIndices: some Sequence<Int>, rowCount: Int, width: Int) {
        let words = (width + 63) / 64
        var bits = [UInt64](repeating: 0, count: max(1, rowCount * words))
        var first = [Int](repeating: 0, count: rowCount + 1)
        var row = 0, count = 0, last = -1
        for i in gridIndices {
            let r = i / width, x = i % width
            precondition(i > last && r < rowCount, "voxel indices must increase and lie in the planes")
            last = i
            while row < r { row += 1; first[row] = count }
            bits[r * words + x / 64] |= 1 << UInt64(x % 64)
            count += 1
        }
        while row < rowCount { row += 1; first[row] = count }
        self.first = first
        self.bits = bits
        wordsPerRow = words
        self.width = width
    }

    /// The voxels of `grid`'s local planes at `gridIndices` (see `init(gridIndices:rowCount:width:)`).
    public init(gridIndices: some Sequence<Int>, grid: SlabGrid) {
        self.init(gridIndices: gridIndices, rowCount: grid.planes.count * grid.size.y, width: grid.size.x)
    }

    public var count: Int { first.last! }

    /// Calls `body(n, x)` for the voxels of local row `r` in order: `n` the voxel's position in
    /// the list, `x` its column.
    @inline(__always)
    func forEach(inRow r: Int, _ body: (_ n: Int, _ x: Int) -> Void) {
        var n = first[r]
        for w in 0..<wordsPerRow {
            var word = bits[r * wordsPerRow + w]
            while word != 0 {
                body(n, w * 64 + word.trailingZeroBitCount)
                n += 1
                word &= word - 1
            }
        }
    }

    /// Calls `body(n, i)` for every voxel `n` in order, `i` its linear index into the local planes.
    public func forEach(_ body: (_ n: Int, _ index: Int) -> Void) {
        for r in 0 ..< first.count - 1 { forEach(inRow: r) { n, x in body(n, r * width + x) } }
    }
}
