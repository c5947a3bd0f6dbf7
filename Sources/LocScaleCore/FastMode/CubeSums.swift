/// Sums of a slab-held real grid over the window cube of every voxel, the cube placed as exact
/// mode cuts it: voxel `c` sums `[c − centre, c − centre + w − 1]` along each axis. Separable
/// running sums — along x per row, along y per plane, along z across planes with `w` planes of
/// halo from the neighbouring slabs — in double precision: O(N³), no FFT.
struct CubeSums {
    let window: Int
    let centre: Int
    let threads: Int

    /// Replaces the real values in `buffer` (layout of `grid`) by the cube sums of their squares
    /// (`squared`) or of themselves. Voxels whose cube leaves the grid get 0.
    func apply(to buffer: AlignedBuffer<Float>, grid: SlabGrid, squared: Bool) throws {
        let size = grid.size, stride = grid.planeStride, rowLength = grid.rowLength
        let planes = grid.planes
        let data = UnsafeSendable(buffer.pointer)
        parallelChunks(planes.count, threads: threads) { chunk in
            let scratch = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(size.x, size.y * size.x))
            let rows = UnsafeMutableBufferPointer<Float>.allocate(capacity: stride)
            defer { scratch.deallocate(); rows.deallocate() }
            for plane in chunk {
                let values = data.value + plane * stride
                for y in 0..<size.y {
                    sumAlongX(values + y * rowLength, count: size.x, squared: squared, scratch: scratch.baseAddress!)
                }
                rows.baseAddress!.update(from: values, count: stride)
                sumAlongY(rows.baseAddress!, into: values, rowCount: size.y, rowLength: rowLength,
                          width: size.x, accumulator: scratch.baseAddress!)
            }
        }
        let (held, around) = try grid.planesAround(UnsafeBufferPointer(start: buffer.pointer, count: planes.count * stride),
                                                   planeStride: stride, below: centre, above: window - 1 - centre)
        around.withUnsafeBufferPointer { source in
            let heldValues = UnsafeSendable(source.baseAddress!)
            parallelChunks(size.y, threads: threads) { rowChunk in
                sumAlongZ(heldValues.value, held: held, into: data.value, planes: planes, depth: size.z,
                          rows: rowChunk, planeStride: stride, rowLength: rowLength, width: size.x)
            }
        }
    }

    /// One row in place: `row[x] = Σ row[x − centre ..< x − centre + w]` (of squares when
    /// `squared`), 0 where that leaves the row.
    private func sumAlongX(_ row: UnsafeMutablePointer<Float>, count n: Int, squared: Bool,
                           scratch: UnsafeMutablePointer<Double>) {
        let w = window
        for x in 0..<n { scratch[x] = squared ? Double(row[x] * row[x]) : Double(row[x]) }
        for x in 0..<n { row[x] = 0 }
        guard n >= w else { return }
        var sum = 0.0
        for t in 0..<w { sum += scratch[t] }
        for start in 0...(n - w) {
            row[start + centre] = Float(sum)
            if start + w < n { sum += scratch[start + w] - scratch[start] }
        }
    }

    /// One plane: output row `y` = the sum of input rows `y − centre ..< y − centre + w`.
    private func sumAlongY(_ input: UnsafeMutablePointer<Float>, into output: UnsafeMutablePointer<Float>,
                           rowCount: Int, rowLength: Int, width: Int, accumulator: UnsafeMutablePointer<Double>) {
        let w = window
        for i in 0..<rowCount * rowLength { output[i] = 0 }
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

    /// Rows `rows` of every local plane: plane `z` = the sum of held planes `z − centre ..< z −
    /// centre + w`, 0 where that leaves the grid.
    private func sumAlongZ(_ held: UnsafePointer<Float>, held heldPlanes: Range<Int>,
                           into output: UnsafeMutablePointer<Float>, planes: Range<Int>, depth: Int,
                           rows: Range<Int>, planeStride: Int, rowLength: Int, width: Int) {
        let w = window
        let count = rows.count * rowLength
        let accumulator = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(count, 1))
        defer { accumulator.deallocate() }
        func heldRows(_ z: Int) -> UnsafePointer<Float> {
            held + (z - heldPlanes.lowerBound) * planeStride + rows.lowerBound * rowLength
        }
        var valid = false
        for z in planes {
            let out = output + (z - planes.lowerBound) * planeStride + rows.lowerBound * rowLength
            let first = z - centre
            guard first >= 0, first + w <= depth else {
                for i in 0..<count { out[i] = 0 }
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
            for r in 0..<rows.count {
                for x in 0..<width { out[r * rowLength + x] = Float(accumulator[r * rowLength + x]) }
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
