import Foundation

/// Exact shell powers of the lowest shells at every listed voxel, by sliding DFTs (FASTMODE.md
/// step 4): the coefficient `F(k)` of a voxel's cube is, up to a phase, the cube sum of the map
/// modulated by `exp(−2πi k·x/P)`. The modulation is separable, so the sums run axis by axis and
/// share work: one x pass per `kx`, one y pass per `(kx, ky)`, one z pass per `k`, each a complex
/// running sum in double precision with the phase looked up from `k_a·x_a mod P` (exact). The
/// maps are real, so `±k` give the same power and only one of each pair is summed. Shells 0 and 1
/// (19 frequencies) carry the largest gains and most of the fast estimate's remaining error.
struct LowShellPowers {
    /// Shells `0 ... shells`; −1 for none.
    let shells: Int
    let layout: SpectrumLayout
    let grid: SlabGrid
    let threads: Int

    /// The rows of a plane are summed in this many parts (the same on every process), one part's
    /// sums held at a time: a sixteenth of two slabs instead of two slabs.
    static let rowParts = 16

    /// One frequency of a `±k` pair (wrapped components), its shell, and how many of the two it
    /// stands for (1 when `k ≡ −k`).
    private struct Frequency {
        let k: XYZ<Int>
        let shell: Int
        let multiplicity: Double
    }

    /// The frequencies of shells `0 ... shells`, one per `±k` pair.
    private var frequencies: [Frequency] {
        let p = layout.padded
        func wrapped(_ j: Int) -> Int { j <= p / 2 ? j : j - p }
        var seen = Set<Int>(), result: [Frequency] = []
        for kz in 0..<p {
            for ky in 0..<p {
                for kx in 0..<p {
                    let k = XYZ(wrapped(kx), wrapped(ky), wrapped(kz))
                    let shell = Int(Double(k.x * k.x + k.y * k.y + k.z * k.z).squareRoot().rounded())
                    let index = (kz * p + ky) * p + kx
                    guard shell <= shells, !seen.contains(index) else { continue }
                    let mirror = (((p - kz) % p) * p + (p - ky) % p) * p + (p - kx) % p
                    seen.insert(index)
                    seen.insert(mirror)
                    result.append(Frequency(k: k, shell: shell, multiplicity: index == mirror ? 1 : 2))
                }
            }
        }
        return result
    }

    /// Shell `shell`'s power `Σ_{k∈s} |F(k)|²` of `map` (this process's planes in the grid's
    /// layout, real) at every voxel, into `power`. Collective under MPI. The frequencies are
    /// visited in the same order for every shell's call, so each voxel's sum is the same bits
    /// however the shells are split into calls.
    func measure(shell: Int, map: UnsafePointer<Float>, at voxels: VoxelRows,
                 into power: UnsafeMutableBufferPointer<Double>) throws {
        power.update(repeating: 0)
        guard shell >= 0, shell <= shells else { return }
        let below = layout.centre, above = layout.window - 1 - layout.centre
        let held = grid.heldPlanes(below: below, above: above)
        let parts = max(1, min(Self.rowParts, grid.size.y))
        let partRows = (0..<parts).map { grid.size.y * $0 / parts ..< grid.size.y * ($0 + 1) / parts }
        let partStride = partRows.map(\.count).max()! * grid.rowLength
        let heldRe = AlignedBuffer<Float>(count: max(1, held.count * partStride))
        let heldIm = AlignedBuffer<Float>(count: max(1, held.count * partStride))
        let sliding = SlidingRows(planes: grid.planes.count, width: grid.size.x)
        // Group the frequencies by (kx, ky): one x–y pass per group, one z pass per frequency.
        var groups: [[Frequency]] = []
        for f in frequencies {
            if let g = groups.firstIndex(where: { $0[0].k.x == f.k.x && $0[0].k.y == f.k.y }) {
                groups[g].append(f)
            } else {
                groups.append([f])
            }
        }
        for group in groups where group.contains(where: { $0.shell == shell }) {
            for rows in partRows {
                sumAlongXY(map, k: group[0].k, rows: rows, sliding: sliding, into: (heldRe, heldIm),
                           partStride: partStride, held: held)
                try grid.exchangeHalo(heldRe.buffer, planeStride: partStride, below: below, above: above)
                try grid.exchangeHalo(heldIm.buffer, planeStride: partStride, below: below, above: above)
                for frequency in group where frequency.shell == shell {
                    addPower((heldRe, heldIm), held: held, partStride: partStride, rows: rows,
                             frequency: frequency, at: voxels, to: power)
                }
            }
        }
    }

    /// Per local plane, the running sums along y carried from one part of the rows to the next:
    /// the complex sum of the x sums of rows `start ..< start + w` (double).
    private final class SlidingRows: @unchecked Sendable {
        let re: UnsafeMutableBufferPointer<Double>
        let im: UnsafeMutableBufferPointer<Double>

        init(planes: Int, width: Int) {
            re = .allocate(capacity: max(1, planes * width))
            im = .allocate(capacity: max(1, planes * width))
        }

        deinit { re.deallocate(); im.deallocate() }
    }

    /// `exp(−2πi m/P)` for `m = 0 ..< P`, as (cos, −sin).
    private var phases: (cos: [Double], sin: [Double]) {
        let p = Double(layout.padded)
        return ((0..<layout.padded).map { cos(2 * .pi * Double($0) / p) }, (0..<layout.padded).map { -sin(2 * .pi * Double($0) / p) })
    }

    /// Per local plane, rows `rows` of the cube sums along x and y of
    /// `map · exp(−2πi (kx·x + ky·y)/P)` into the local planes of `held` (real and imaginary
    /// parts, `partStride` floats per plane, rows from `rows.lowerBound`). The parts of a plane's
    /// rows come in order (the first starts the running sums in `sliding`, the others carry
    /// them on), so every value is the one a whole-plane pass gives.
    private func sumAlongXY(_ map: UnsafePointer<Float>, k: XYZ<Int>, rows: Range<Int>, sliding: SlidingRows,
                            into held: (AlignedBuffer<Float>, AlignedBuffer<Float>), partStride: Int,
                            held heldPlanes: Range<Int>) {
        let size = grid.size, rowLength = grid.rowLength, stride = grid.planeStride
        let p = layout.padded, w = layout.window, centre = layout.centre
        let (cosine, sine) = phases
        let first = grid.planes.lowerBound - heldPlanes.lowerBound
        let cosX = (0..<size.x).map { cosine[(k.x * $0 % p + p) % p] }, sinX = (0..<size.x).map { sine[(k.x * $0 % p + p) % p] }
        let cosY = (0..<size.y).map { cosine[(k.y * $0 % p + p) % p] }, sinY = (0..<size.y).map { sine[(k.y * $0 % p + p) % p] }
        let pointers = UnsafeSendable((map, held.0.pointer, held.1.pointer, sliding))
        parallelChunks(grid.planes.count, threads: threads) { chunk in
            let (source, outRe, outIm, sliding) = pointers.value
            // One row's modulated values, then its sums along x (complex, double).
            let termRe = UnsafeMutableBufferPointer<Double>.allocate(capacity: size.x)
            let termIm = UnsafeMutableBufferPointer<Double>.allocate(capacity: size.x)
            let rowRe = UnsafeMutableBufferPointer<Double>.allocate(capacity: size.x)
            let rowIm = UnsafeMutableBufferPointer<Double>.allocate(capacity: size.x)
            defer { termRe.deallocate(); termIm.deallocate(); rowRe.deallocate(); rowIm.deallocate() }
            for plane in chunk {
                /// Row `y`'s sums along x into `rowRe`, `rowIm` (0 where the window leaves the row).
                func sumRow(_ y: Int) {
                    let from = plane * stride + y * rowLength
                    for x in 0..<size.x {
                        let v = Double(source[from + x])
                        termRe[x] = v * cosX[x]
                        termIm[x] = v * sinX[x]
                    }
                    rowRe.update(repeating: 0)
                    rowIm.update(repeating: 0)
                    guard size.x >= w else { return }
                    var re = 0.0, im = 0.0
                    for t in 0..<w { re += termRe[t]; im += termIm[t] }
                    for start in 0...(size.x - w) {
                        rowRe[start + centre] = re
                        rowIm[start + centre] = im
                        if start + w < size.x {
                            re += termRe[start + w] - termRe[start]
                            im += termIm[start + w] - termIm[start]
                        }
                    }
                }
                // Along y, row by row: each row is modulated by one phase, so the running sums
                // are vector operations over x.
                let sumRe = sliding.re.baseAddress! + plane * size.x, sumIm = sliding.im.baseAddress! + plane * size.x
                func add(_ y: Int, _ sign: Double) {
                    sumRow(y)
                    let (c, s) = (sign * cosY[y], sign * sinY[y])
                    for x in 0..<size.x {
                        let (a, b) = (rowRe[x], rowIm[x])
                        sumRe[x] += a * c - b * s
                        sumIm[x] += a * s + b * c
                    }
                }
                let outPlane = (first + plane) * partStride
                for i in 0 ..< rows.count * rowLength { outRe[outPlane + i] = 0; outIm[outPlane + i] = 0 }
                guard size.y >= w else { continue }
                if rows.lowerBound == 0 {
                    for x in 0..<size.x { sumRe[x] = 0; sumIm[x] = 0 }
                    for t in 0..<w { add(t, 1) }
                }
                for y in rows where y >= centre && y - centre <= size.y - w {
                    let start = y - centre, out = outPlane + (y - rows.lowerBound) * rowLength
                    for x in 0..<size.x {
                        outRe[out + x] = Float(sumRe[x])
                        outIm[out + x] = Float(sumIm[x])
                    }
                    if start + w < size.y {
                        add(start + w, 1)
                        add(start, -1)
                    }
                }
            }
        }
    }

    /// Adds `multiplicity · |C|²` to `power` at every voxel in rows `rows`, `C` the cube sum
    /// along z of `held · exp(−2πi kz·z/P)` (`held`: those rows, `partStride` floats per plane).
    private func addPower(_ held: (AlignedBuffer<Float>, AlignedBuffer<Float>), held heldPlanes: Range<Int>,
                          partStride: Int, rows part: Range<Int>, frequency: Frequency, at voxels: VoxelRows,
                          to power: UnsafeMutableBufferPointer<Double>) {
        let size = grid.size, rowLength = grid.rowLength, planes = grid.planes
        let p = layout.padded, w = layout.window, centre = layout.centre, kz = frequency.k.z
        let multiplicity = frequency.multiplicity
        let (cosine, sine) = phases
        let pointers = UnsafeSendable((held.0.pointer, held.1.pointer, power))
        parallelChunks(part.count, threads: threads) { local in
            let (inRe, inIm, out) = pointers.value
            let rows = part.lowerBound + local.lowerBound ..< part.lowerBound + local.upperBound
            let count = rows.count * rowLength, offset = local.lowerBound * rowLength
            let sumRe = UnsafeMutableBufferPointer<Double>.allocate(capacity: count)
            let sumIm = UnsafeMutableBufferPointer<Double>.allocate(capacity: count)
            defer { sumRe.deallocate(); sumIm.deallocate() }
            /// Adds `sign ·` plane `z` (global), modulated, to the running sums.
            func add(_ z: Int, _ sign: Double) {
                let m = (kz * z % p + p) % p
                let (c, s) = (sign * cosine[m], sign * sine[m])
                let base = (z - heldPlanes.lowerBound) * partStride + offset
                for i in 0..<count {
                    let (a, b) = (Double(inRe[base + i]), Double(inIm[base + i]))
                    sumRe[i] += a * c - b * s
                    sumIm[i] += a * s + b * c
                }
            }
            var valid = false
            for z in planes {
                let first = z - centre
                guard first >= 0, first + w <= size.z else {
                    valid = false
                    continue
                }
                if valid {
                    add(first + w - 1, 1)
                    add(first - 1, -1)
                } else {
                    sumRe.update(repeating: 0)
                    sumIm.update(repeating: 0)
                    for t in first ..< first + w { add(t, 1) }
                    valid = true
                }
                let row = (z - planes.lowerBound) * size.y
                for y in rows {
                    let base = (y - rows.lowerBound) * rowLength
                    voxels.forEach(inRow: row + y) { n, x in
                        let i = base + x
                        out[n] += multiplicity * (sumRe[i] * sumRe[i] + sumIm[i] * sumIm[i])
                    }
                }
            }
        }
    }
}
