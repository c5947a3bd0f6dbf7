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

    /// Per shell, per voxel: experimental and model powers `Σ_{k∈s} |F(k)|²`.
    struct Powers {
        var experimental: [[Double]]
        var model: [[Double]]
    }

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

    /// The powers of both maps (this process's planes, x fastest) at `voxels`. Collective under MPI.
    func measure(experimental: UnsafeBufferPointer<Float>, model: UnsafeBufferPointer<Float>,
                 at voxels: VoxelRows) throws -> Powers {
        let zero = [[Double]](repeating: [Double](repeating: 0, count: voxels.count), count: max(shells + 1, 0))
        var powers = Powers(experimental: zero, model: zero)
        guard shells >= 0 else { return powers }
        let below = layout.centre, above = layout.window - 1 - layout.centre
        let held = grid.heldPlanes(below: below, above: above)
        let heldRe = AlignedBuffer<Float>(count: max(1, held.count * grid.planeStride))
        let heldIm = AlignedBuffer<Float>(count: max(1, held.count * grid.planeStride))
        // Group the frequencies by (kx, ky): one x–y pass per group, one z pass per frequency.
        var groups: [[Frequency]] = []
        for f in frequencies {
            if let g = groups.firstIndex(where: { $0[0].k.x == f.k.x && $0[0].k.y == f.k.y }) {
                groups[g].append(f)
            } else {
                groups.append([f])
            }
        }
        for (map, isModel) in [(experimental, false), (model, true)] {
            for group in groups {
                sumAlongXY(map, k: group[0].k, into: (heldRe, heldIm), held: held)
                try grid.exchangeHalo(heldRe.buffer, planeStride: grid.planeStride, below: below, above: above)
                try grid.exchangeHalo(heldIm.buffer, planeStride: grid.planeStride, below: below, above: above)
                for frequency in group {
                    if isModel {
                        addPower((heldRe, heldIm), held: held, frequency: frequency, at: voxels, to: &powers.model[frequency.shell])
                    } else {
                        addPower((heldRe, heldIm), held: held, frequency: frequency, at: voxels, to: &powers.experimental[frequency.shell])
                    }
                }
            }
        }
        return powers
    }

    /// `exp(−2πi m/P)` for `m = 0 ..< P`, as (cos, −sin).
    private var phases: (cos: [Double], sin: [Double]) {
        let p = Double(layout.padded)
        return ((0..<layout.padded).map { cos(2 * .pi * Double($0) / p) }, (0..<layout.padded).map { -sin(2 * .pi * Double($0) / p) })
    }

    /// Per local plane: the cube sums along x and y of `map · exp(−2πi (kx·x + ky·y)/P)` into the
    /// local planes of `held` (real and imaginary parts, the grid's row layout).
    private func sumAlongXY(_ map: UnsafeBufferPointer<Float>, k: XYZ<Int>, into held: (AlignedBuffer<Float>, AlignedBuffer<Float>),
                            held heldPlanes: Range<Int>) {
        let size = grid.size, rowLength = grid.rowLength, stride = grid.planeStride
        let p = layout.padded, w = layout.window, centre = layout.centre
        let (cosine, sine) = phases
        let first = grid.planes.lowerBound - heldPlanes.lowerBound
        let cosX = (0..<size.x).map { cosine[(k.x * $0 % p + p) % p] }, sinX = (0..<size.x).map { sine[(k.x * $0 % p + p) % p] }
        let cosY = (0..<size.y).map { cosine[(k.y * $0 % p + p) % p] }, sinY = (0..<size.y).map { sine[(k.y * $0 % p + p) % p] }
        let pointers = UnsafeSendable((map, held.0.pointer, held.1.pointer))
        parallelChunks(grid.planes.count, threads: threads) { chunk in
            let (source, outRe, outIm) = pointers.value
            // The plane after the x sums, complex, double.
            let rowsRe = UnsafeMutableBufferPointer<Double>.allocate(capacity: size.y * size.x)
            let rowsIm = UnsafeMutableBufferPointer<Double>.allocate(capacity: size.y * size.x)
            // One row's modulated values (x pass), then the running sums along y.
            let termRe = UnsafeMutableBufferPointer<Double>.allocate(capacity: size.x)
            let termIm = UnsafeMutableBufferPointer<Double>.allocate(capacity: size.x)
            defer { rowsRe.deallocate(); rowsIm.deallocate(); termRe.deallocate(); termIm.deallocate() }
            for plane in chunk {
                rowsRe.update(repeating: 0)
                rowsIm.update(repeating: 0)
                for y in 0..<size.y {
                    let from = (plane * size.y + y) * size.x
                    for x in 0..<size.x {
                        let v = Double(source[from + x])
                        termRe[x] = v * cosX[x]
                        termIm[x] = v * sinX[x]
                    }
                    guard size.x >= w else { continue }
                    var re = 0.0, im = 0.0
                    for t in 0..<w { re += termRe[t]; im += termIm[t] }
                    for start in 0...(size.x - w) {
                        rowsRe[y * size.x + start + centre] = re
                        rowsIm[y * size.x + start + centre] = im
                        if start + w < size.x {
                            re += termRe[start + w] - termRe[start]
                            im += termIm[start + w] - termIm[start]
                        }
                    }
                }
                // Along y, row by row: each row is modulated by one phase, so the running sums
                // are vector operations over x.
                let outPlane = (first + plane) * stride
                for i in 0..<stride { outRe[outPlane + i] = 0; outIm[outPlane + i] = 0 }
                guard size.y >= w else { continue }
                for x in 0..<size.x { termRe[x] = 0; termIm[x] = 0 }
                func add(_ y: Int, _ sign: Double) {
                    let (c, s) = (sign * cosY[y], sign * sinY[y])
                    let row = y * size.x
                    for x in 0..<size.x {
                        let (a, b) = (rowsRe[row + x], rowsIm[row + x])
                        termRe[x] += a * c - b * s
                        termIm[x] += a * s + b * c
                    }
                }
                for t in 0..<w { add(t, 1) }
                for start in 0...(size.y - w) {
                    let out = outPlane + (start + centre) * rowLength
                    for x in 0..<size.x {
                        outRe[out + x] = Float(termRe[x])
                        outIm[out + x] = Float(termIm[x])
                    }
                    if start + w < size.y {
                        add(start + w, 1)
                        add(start, -1)
                    }
                }
            }
        }
    }

    /// Adds `multiplicity · |C|²` to `power` at every voxel, `C` the cube sum along z of
    /// `held · exp(−2πi kz·z/P)`.
    private func addPower(_ held: (AlignedBuffer<Float>, AlignedBuffer<Float>), held heldPlanes: Range<Int>,
                          frequency: Frequency, at voxels: VoxelRows, to power: inout [Double]) {
        let size = grid.size, rowLength = grid.rowLength, stride = grid.planeStride, planes = grid.planes
        let p = layout.padded, w = layout.window, centre = layout.centre, kz = frequency.k.z
        let multiplicity = frequency.multiplicity
        let (cosine, sine) = phases
        power.withUnsafeMutableBufferPointer { out in
            let pointers = UnsafeSendable((held.0.pointer, held.1.pointer, out.baseAddress))
            parallelChunks(size.y, threads: threads) { rows in
                let (inRe, inIm, out) = pointers.value
                let count = rows.count * rowLength, offset = rows.lowerBound * rowLength
                let sumRe = UnsafeMutableBufferPointer<Double>.allocate(capacity: count)
                let sumIm = UnsafeMutableBufferPointer<Double>.allocate(capacity: count)
                defer { sumRe.deallocate(); sumIm.deallocate() }
                /// Adds `sign ·` plane `z` (global), modulated, to the running sums.
                func add(_ z: Int, _ sign: Double) {
                    let m = (kz * z % p + p) % p
                    let (c, s) = (sign * cosine[m], sign * sine[m])
                    let base = (z - heldPlanes.lowerBound) * stride + offset
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
                    let base = (z - planes.lowerBound) * stride + offset
                    let row = (z - planes.lowerBound) * size.y
                    for n in voxels.first[row + rows.lowerBound] ..< voxels.first[row + rows.upperBound] {
                        let i = voxels.positions[n] - base
                        out![n] += multiplicity * (sumRe[i] * sumRe[i] + sumIm[i] * sumIm[i])
                    }
                }
            }
        }
    }
}
