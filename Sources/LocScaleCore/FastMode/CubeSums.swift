/// Receives the cube sum of voxel `n` (position in the voxel list), once per voxel, from the
/// thread that summed its row.
protocol CubeSumSink: Sendable {
    func take(_ n: Int, _ value: Double)
}

/// Sums of a slab-held real grid over the window cube of every voxel, the cube placed as exact
/// mode cuts it: voxel `c` sums `[c − centre, c − centre + w − 1]` along each axis. Separable
/// running sums — along x per row and along y per plane, in place, then along z across planes
/// with the neighbouring slabs' halo planes — in double precision: O(N³), no FFT. The grid
/// lives in a buffer with room for the halo planes (`makeBuffer`), so no second copy is held.
/// Shared by the threads of one call (each writes its own planes or rows), hence `@unchecked`.
final class CubeSums: @unchecked Sendable {
    let window: Int
    let centre: Int
    let threads: Int
    private let grid: SlabGrid
    /// This process's planes and the halo planes below and above them.
    let heldPlanes: Range<Int>

    init(window: Int, centre: Int, threads: Int, grid: SlabGrid) {
        self.window = window
        self.centre = centre
        self.threads = threads
        self.grid = grid
        heldPlanes = grid.heldPlanes(below: centre, above: window - 1 - centre)
    }

    /// A zero-filled buffer of the grid's layout for the held planes (this process's planes and
    /// their halos); the grid's transforms work on `ownPlanes(of:)`.
    func makeBuffer() -> AlignedBuffer<Float> { AlignedBuffer(count: max(1, heldPlanes.count * grid.planeStride)) }

    /// This process's first plane in a buffer from `makeBuffer`.
    func ownPlanes(of buffer: AlignedBuffer<Float>) -> UnsafeMutablePointer<Float> {
        buffer.pointer + (grid.planes.lowerBound - heldPlanes.lowerBound) * grid.planeStride
    }

    /// The cube sums of the squares of the real values in this process's planes of `buffer` (from
    /// `makeBuffer`) at `voxels` (whose cubes lie in the grid), each handed to `sink`. The x and
    /// y passes overwrite the planes with their sums, and the halo planes are filled.
    func sums(of buffer: AlignedBuffer<Float>, at voxels: VoxelRows, into sink: some CubeSumSink) throws {
        let size = grid.size, stride = grid.planeStride, rowLength = grid.rowLength
        let planes = grid.planes, heldPlanes = heldPlanes
        let pointers = UnsafeSendable(ownPlanes(of: buffer))
        parallelChunks(planes.count, threads: threads) { chunk in
            let scratch = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(size.x, size.y * size.x))
            let rows = UnsafeMutableBufferPointer<Float>.allocate(capacity: stride)
            defer { scratch.deallocate(); rows.deallocate() }
            let values = pointers.value
            for plane in chunk {
                for y in 0..<size.y {
                    self.sumAlongX(values + plane * stride + y * rowLength, into: rows.baseAddress! + y * rowLength,
                                   count: size.x, scratch: scratch.baseAddress!)
                }
                self.sumAlongY(rows.baseAddress!, into: values + plane * stride, rowCount: size.y,
                               rowLength: rowLength, width: size.x, accumulator: scratch.baseAddress!)
            }
        }
        try grid.exchangeHalo(buffer.buffer, planeStride: stride, below: centre, above: window - 1 - centre)
        let held = UnsafeSendable(UnsafePointer(buffer.pointer))
        parallelChunks(size.y, threads: threads) { rowChunk in
            self.sumAlongZ(held.value, held: heldPlanes, planes: planes, depth: size.z, rows: rowChunk,
                           planeStride: stride, rowLength: rowLength, voxels: voxels, into: sink)
        }
    }

    /// One row: `out[x] = Σ row[x − centre ..< x − centre + w]²`, 0 where that leaves the row.
    private func sumAlongX(_ row: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>, count n: Int,
                           scratch: UnsafeMutablePointer<Double>) {
        let w = window
        for x in 0..<n { scratch[x] = Double(row[x] * row[x]) }
        for x in 0..<n { out[x] = 0 }
        guard n >= w else { return }
        var sum = 0.0
        for t in 0..<w { sum += scratch[t] }
        for start in 0...(n - w) {
            out[start + centre] = Float(sum)
            if start + w < n { sum += scratch[start + w] - scratch[start] }
        }
    }

    /// One plane: output row `y` = the sum of input rows `y − centre ..< y − centre + w`.
    private func sumAlongY(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
                           rowCount: Int, rowLength: Int, width: Int, accumulator: UnsafeMutablePointer<Double>) {
        let w = window
        for y in 0..<rowCount {
            for x in 0..<width { output[y * rowLength + x] = 0 }
        }
        guard rowCount >= w else { return }
        for x in 0..<width { accumulator[x] = 0 }
        for t in 0..<w {
            let row = input + t * rowLength
            for x in 0..<width { accumulator[x] += Double(row[x]) }
        }
        for start in 0...(rowCount - w) {
            let out = output + (start + centre) * rowLength
            for x in 0..<width { out[x] = Float(accumulator[x]) }
            if start + w < rowCount {
                let add = input + (start + w) * rowLength, remove = input + start * rowLength
                for x in 0..<width { accumulator[x] += Double(add[x]) - Double(remove[x]) }
            }
        }
    }

    /// Rows `rows` of every local plane: the sum of held planes `z − centre ..< z − centre + w`,
    /// read off at the voxels in those rows into `sink`.
    private func sumAlongZ(_ held: UnsafePointer<Float>, held heldPlanes: Range<Int>, planes: Range<Int>, depth: Int,
                           rows: Range<Int>, planeStride: Int, rowLength: Int, voxels: VoxelRows,
                           into sink: some CubeSumSink) {
        let w = window
        let count = rows.count * rowLength, offset = rows.lowerBound * rowLength
        let accumulator = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(count, 1))
        defer { accumulator.deallocate() }
        func heldRows(_ z: Int) -> UnsafePointer<Float> { held + (z - heldPlanes.lowerBound) * planeStride + offset }
        let rowsPerPlane = planeStride / rowLength
        var valid = false
        for z in planes {
            let first = z - centre
            guard first >= 0, first + w <= depth else {
                valid = false
                continue
            }
            if valid {
                let add = heldRows(first + w - 1), remove = heldRows(first - 1)
                for i in 0..<count { accumulator[i] += Double(add[i]) - Double(remove[i]) }
            } else {
                for i in 0..<count { accumulator[i] = 0 }
                for t in first ..< first + w {
                    let plane = heldRows(t)
                    for i in 0..<count { accumulator[i] += Double(plane[i]) }
                }
                valid = true
            }
            let row = (z - planes.lowerBound) * rowsPerPlane
            for y in rows {
                let base = (y - rows.lowerBound) * rowLength
                voxels.forEach(inRow: row + y) { n, x in sink.take(n, accumulator[base + x]) }
            }
        }
    }
}

/// Runs `body` on `threads` threads over contiguous parts of `0 ..< count` (the calling thread
/// waits); parts are as equal as possible, and none is empty.
func parallelChunks(_ count: Int, threads: Int, _ body: @escaping @Sendable (Range<Int>) -> Void) {
    let parts = max(1, min(threads, count))
    guard count > 0 else { return }
    LocalScaling.runOnThreads(parts) { part in
        body(count * part / parts ..< count * (part + 1) / parts)
    }
}
