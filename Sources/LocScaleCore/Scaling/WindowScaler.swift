/// The two maps a scaler cuts cubes from, in (z, y, x) order, and the values that extend them
/// beyond the box (each map's mean outside the mask). The arrays may hold only a slab of planes
/// of the box — `firstPlane ..< firstPlane + planes` — as long as every cube that is cut lies in
/// it or outside the box.
public struct WindowSource: @unchecked Sendable {
    public let experimental: UnsafeBufferPointer<Float>
    public let model: UnsafeBufferPointer<Float>
    /// The whole box, in voxels.
    public let shape: XYZ<Int>
    /// Box z of the arrays' first plane.
    public let firstPlane: Int
    public let experimentalOutside: Float
    public let modelOutside: Float

    public init(experimental: UnsafeBufferPointer<Float>, model: UnsafeBufferPointer<Float>,
                shape: XYZ<Int>, firstPlane: Int = 0, experimentalOutside: Float, modelOutside: Float) {
        precondition(experimental.count == model.count && experimental.count % (shape.x * shape.y) == 0)
        self.experimental = experimental
        self.model = model
        self.shape = shape
        self.firstPlane = firstPlane
        self.experimentalOutside = experimentalOutside
        self.modelOutside = modelOutside
    }

    /// Box planes the arrays hold.
    public var planes: Range<Int> { firstPlane ..< firstPlane + experimental.count / (shape.x * shape.y) }
}

/// Scales one voxel at a time (paper eq. 4–5, ARCHITECTURE §1.2): one forward complex FFT of the two
/// padded cubes (experimental as real part, model as imaginary part), then one pass over the
/// half-spectrum that separates the two spectra and reduces each coefficient, and one pass per
/// shell that sums the experimental and model powers and the real parts that the central voxel's
/// read-out needs. No inverse FFT.
///
/// One scaler per thread: it owns its box and spectrum buffers and reuses them for every voxel,
/// so `scale(x:y:z:from:)` allocates nothing. The FFT plans are shared.
public final class WindowScaler: WindowKernel {
    public let layout: SpectrumLayout
    private let fft: CubeFFT
    private let workspace: CubeFFT.Workspace
    /// The padded box: experimental cube in the real parts, model cube in the imaginary parts.
    private let box: AlignedBuffer<Float>
    /// Its full complex spectrum.
    private let spectrum: AlignedBuffer<Float>
    private let tables: Tables
    /// Per-bin sums, `lanes` copies so that neighbouring coefficients (often in the same shell)
    /// add into different memory and do not wait for each other: (experimental power or
    /// amplitude, model power or amplitude, read-out) per bin, then the copies are added up.
    private let sums: UnsafeMutableBufferPointer<Double>
    private let lanes = 4
    /// Per-bin totals after `sums` is folded: experimental, model, read-out.
    private let sumE: UnsafeMutableBufferPointer<Double>
    private let sumM: UnsafeMutableBufferPointer<Double>
    private let readOut: UnsafeMutableBufferPointer<Double>

    /// The layout's tables copied into this scaler's own memory (one copy per thread).
    private struct Tables {
        let shell: UnsafeMutableBufferPointer<UInt16>
        let node: UnsafeMutableBufferPointer<UInt16>
        let nodeWeightLow: UnsafeMutableBufferPointer<Float>
        let nodeWeightHigh: UnsafeMutableBufferPointer<Float>
        let profileCount: UnsafeMutableBufferPointer<Double>
        let rowPhase: UnsafeMutableBufferPointer<Float>
        let columnWeight: UnsafeMutableBufferPointer<Float>

        init(_ layout: SpectrumLayout) {
            func copy<T>(_ array: [T]) -> UnsafeMutableBufferPointer<T> {
                let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(array.count, 1))
                _ = buffer.initialize(from: array)
                return UnsafeMutableBufferPointer(rebasing: buffer[0..<array.count])
            }
            shell = copy(layout.shell)
            node = copy(layout.node)
            nodeWeightLow = copy(layout.nodeWeightLow)
            nodeWeightHigh = copy(layout.nodeWeightHigh)
            profileCount = copy(layout.profileCount)
            rowPhase = copy(layout.rowPhase)
            columnWeight = copy(layout.columnWeight)
        }

        func deallocate() {
            let pointers: [UnsafeMutableRawPointer?] = [
                UnsafeMutableRawPointer(shell.baseAddress), UnsafeMutableRawPointer(node.baseAddress),
                UnsafeMutableRawPointer(nodeWeightLow.baseAddress), UnsafeMutableRawPointer(nodeWeightHigh.baseAddress),
                UnsafeMutableRawPointer(profileCount.baseAddress), UnsafeMutableRawPointer(rowPhase.baseAddress),
                UnsafeMutableRawPointer(columnWeight.baseAddress)]
            for pointer in pointers { pointer?.deallocate() }
        }
    }

    /// `fft` must transform `layout.padded`³ boxes filled in `layout.window` planes and rows;
    /// it may be shared by scalers.
    public init(layout: SpectrumLayout, fft: CubeFFT) {
        precondition(fft.padded == layout.padded && fft.filled == layout.window)
        self.layout = layout
        self.fft = fft
        workspace = fft.makeWorkspace()
        box = AlignedBuffer(count: fft.floatCount)
        spectrum = AlignedBuffer(count: fft.floatCount)
        tables = Tables(layout)
        let bins = layout.binCount + 1
        sums = .allocate(capacity: 3 * lanes * bins)
        sumE = .allocate(capacity: bins)
        sumM = .allocate(capacity: bins)
        readOut = .allocate(capacity: bins)
    }

    deinit {
        tables.deallocate()
        sums.deallocate(); sumE.deallocate(); sumM.deallocate(); readOut.deallocate()
    }

    /// The scaled value of voxel (x, y, z) of `source`.
    public func scale(x: Int, y: Int, z: Int, from source: WindowSource) -> Float {
        scale(x: x, y: y, z: z, from: source, observer: nil, as: 0)
    }

    /// `WindowKernel`: the voxels of `batch`, one after the other.
    public func scale(_ voxels: UnsafeBufferPointer<Int>, batch: Range<Int>, from source: WindowSource,
                      into values: UnsafeMutableBufferPointer<Float>, observer: (any ShellSpectrumObserver)?) {
        let nx = source.shape.x, ny = source.shape.y
        for n in batch {
            let i = voxels[n]
            values[n] = scale(x: i % nx, y: (i / nx) % ny, z: i / (nx * ny), from: source, observer: observer, as: n)
        }
    }

    /// The scaled value of voxel (x, y, z); its bins' sums go to `observer` as voxel `index`.
    @inline(__always)
    private func scale(x: Int, y: Int, z: Int, from source: WindowSource,
                       observer: (any ShellSpectrumObserver)?, as index: Int) -> Float {
        loadCubes(x: x, y: y, z: z, from: source)
        fft.execute(box, spectrum, using: workspace)
        // Each case calls `sumShells` with a constant, so that its inner loop has no branch.
        switch layout.rule {
        case .exact:
            sumShells(amplitudes: false)
            report(to: observer, as: index)
            return readOutExact()
        case .locscale2:
            sumShells(amplitudes: true)
            report(to: observer, as: index)
            return readOutLocScale2()
        }
    }

    /// Hands the bins' sums of the last `sumShells` to `observer`.
    @inline(__always)
    private func report(to observer: (any ShellSpectrumObserver)?, as index: Int) {
        guard let observer else { return }
        let bins = layout.binCount
        observer.observe(voxel: index, experimental: UnsafeBufferPointer(rebasing: sumE[0..<bins]),
                         model: UnsafeBufferPointer(rebasing: sumM[0..<bins]))
    }

    /// The padded real cubes of both maps around (x, y, z), as the FFT sees them (for tests).
    public func paddedCubes(x: Int, y: Int, z: Int, from source: WindowSource) -> (experimental: [Float], model: [Float]) {
        loadCubes(x: x, y: y, z: z, from: source)
        let n = fft.floatCount / 2
        return ((0..<n).map { box.pointer[2 * $0] }, (0..<n).map { box.pointer[2 * $0 + 1] })
    }

    /// Writes the w³ cubes around (x, y, z) into the box as `layout.centreInPaddedBox` says —
    /// experimental values in the real parts, model values in the imaginary parts; cube voxels
    /// outside the map get the map's `outside` value. The filled rows are written whole (zeros
    /// beyond the cube), because the FFT transforms them in place.
    private func loadCubes(x: Int, y: Int, z: Int, from source: WindowSource) {
        let w = layout.window, c = layout.centre, p = layout.padded
        let shape = source.shape
        let outsideE = source.experimentalOutside, outsideM = source.modelOutside
        for i in 0..<w {
            let sz = z - c + i
            for j in 0..<w {
                let sy = y - c + j
                let row = box.pointer + 2 * ((i * p + j) * p)
                // Cube x indices [0, c) land at [p − c, p); [c, w) at [0, w − c); zeros between.
                for k in w - c ..< p - c { row[2 * k] = 0; row[2 * k + 1] = 0 }
                if sz < 0 || sz >= shape.z || sy < 0 || sy >= shape.y {
                    for k in 0 ..< w - c { row[2 * k] = outsideE; row[2 * k + 1] = outsideM }
                    for k in p - c ..< p { row[2 * k] = outsideE; row[2 * k + 1] = outsideM }
                    continue
                }
                assert(source.planes.contains(sz), "plane \(sz) is not in the slab \(source.planes)")
                let offset = ((sz - source.firstPlane) * shape.y + sy) * shape.x
                let e = source.experimental.baseAddress! + offset, m = source.model.baseAddress! + offset
                copyRow(e, m, from: x - c, count: c, width: shape.x, outside: (outsideE, outsideM), to: row + 2 * (p - c))
                copyRow(e, m, from: x, count: w - c, width: shape.x, outside: (outsideE, outsideM), to: row)
            }
        }
    }

    /// Interleaves `count` values of two map rows from x = `start` into `target`.
    @inline(__always)
    private func copyRow(_ e: UnsafePointer<Float>, _ m: UnsafePointer<Float>, from start: Int, count: Int,
                         width: Int, outside: (Float, Float), to target: UnsafeMutablePointer<Float>) {
        if start >= 0 && start + count <= width {
            for k in 0..<count {
                target[2 * k] = e[start + k]
                target[2 * k + 1] = m[start + k]
            }
            return
        }
        for k in 0..<count {
            let sx = start + k
            let inside = sx >= 0 && sx < width
            target[2 * k] = inside ? e[sx] : outside.0
            target[2 * k + 1] = inside ? m[sx] : outside.1
        }
    }

    /// One pass, row by row over the half-spectrum: separates the experimental and model
    /// spectra from the paired transform `Z` (`FE(k) = (Z(k) + conj Z(−k)) / 2`,
    /// `FM(k) = (Z(k) − conj Z(−k)) / 2i`) and adds, per shell, the experimental and model power
    /// (exact rule, Hermitian-weighted) or amplitude (locscale2 rule, unweighted) and the
    /// read-out part `weight · Re(FE · phase)` — by interpolation node for locscale2 — into
    /// `sumE`, `sumM`, `readOut`.
    @inline(__always)
    private func sumShells(amplitudes: Bool) {
        let z = spectrum.pointer
        let shell = tables.shell, node = tables.node
        let low = tables.nodeWeightLow, high = tables.nodeWeightHigh
        let phase = tables.rowPhase, columnWeight = tables.columnWeight
        let p = layout.padded, half = p / 2 + 1
        let bins = layout.binCount + 1
        sums.update(repeating: 0)
        for kz in 0..<p {
            for ky in 0..<p {
                let row = kz * p + ky
                let pr = phase[2 * row], pi = phase[2 * row + 1]
                let forward = z + 2 * row * p
                let mirror = z + 2 * (((p - kz) % p * p + (p - ky) % p) * p)
                let first = row * half
                for kx in 0..<half {
                    let mx = kx == 0 ? 0 : p - kx
                    let zr = forward[2 * kx], zi = forward[2 * kx + 1]
                    let wr = mirror[2 * mx], wi = mirror[2 * mx + 1]
                    let er = 0.5 * (zr + wr), ei = 0.5 * (zi - wi)
                    let mr = 0.5 * (zi + wi), mi = 0.5 * (wr - zr)
                    let lane = sums.baseAddress! + 3 * bins * (kx & 3)
                    let j = first + kx
                    let s = 3 * Int(shell[j])
                    if amplitudes {
                        lane[s] += Double((er * er + ei * ei).squareRoot())
                        lane[s + 1] += Double((mr * mr + mi * mi).squareRoot())
                        let real = er * pr - ei * pi
                        let n = 3 * Int(node[j])
                        lane[n + 2] += Double(low[j] * real)
                        lane[n + 5] += Double(high[j] * real)
                    } else {
                        let w = columnWeight[kx]
                        lane[s] += Double(w * (er * er + ei * ei))
                        lane[s + 1] += Double(w * (mr * mr + mi * mi))
                        lane[s + 2] += Double(w * (er * pr - ei * pi))
                    }
                }
            }
        }
        for b in 0..<bins {
            var e = 0.0, m = 0.0, r = 0.0
            for l in 0..<lanes {
                e += sums[3 * (bins * l + b)]
                m += sums[3 * (bins * l + b) + 1]
                r += sums[3 * (bins * l + b) + 2]
            }
            sumE[b] = e
            sumM[b] = m
            readOut[b] = r
        }
    }

    /// Exact rule, from the sums of `sumShells(amplitudes: false)`:
    /// `out = (1/P³) Σ_s sqrt(PM(s)/PE(s)) · R(s)`.
    private func readOutExact() -> Float {
        var value = 0.0
        for s in 0..<layout.binCount where sumE[s] > 0 {
            value += (sumM[s] / sumE[s]).squareRoot() * readOut[s]
        }
        let size = Double(layout.padded)
        return Float(value / (size * size * size))
    }

    /// locscale2 rule: mean-amplitude profiles on floor shells of raw indices, gains `pM/pE`
    /// interpolated per coefficient (folded into the per-node read-out sums), from the sums of
    /// `sumShells(amplitudes: true)`.
    private func readOutLocScale2() -> Float {
        var value = 0.0
        for s in 0..<layout.binCount {
            // Mean amplitudes; the count cancels in the ratio but not in 0/0 → 0.
            let e = sumE[s] / tables.profileCount[s], m = sumM[s] / tables.profileCount[s]
            let gain = m / e
            if gain.isFinite { value += gain * readOut[s] }
        }
        let w = Double(layout.padded)
        return Float(value / (w * w * w))
    }
}
