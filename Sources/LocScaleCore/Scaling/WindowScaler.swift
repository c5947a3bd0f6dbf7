/// The two maps a scaler cuts cubes from, in (z, y, x) order, and the values that extend them
/// beyond the box (each map's mean outside the mask).
public struct WindowSource: @unchecked Sendable {
    public let experimental: UnsafeBufferPointer<Float>
    public let model: UnsafeBufferPointer<Float>
    public let shape: XYZ<Int>
    public let experimentalOutside: Float
    public let modelOutside: Float

    public init(experimental: UnsafeBufferPointer<Float>, model: UnsafeBufferPointer<Float>,
                shape: XYZ<Int>, experimentalOutside: Float, modelOutside: Float) {
        self.experimental = experimental
        self.model = model
        self.shape = shape
        self.experimentalOutside = experimentalOutside
        self.modelOutside = modelOutside
    }
}

/// Scales one voxel at a time (paper eq. 4–5, DESIGN §1.2): two forward r2c FFTs of the padded
/// cubes and one fused pass over the half-spectrum that sums, per shell, the experimental and
/// model powers and the real parts that the central voxel's read-out needs. No inverse FFT.
///
/// One scaler per thread: it owns its cube and spectrum buffers and reuses them for every voxel,
/// so `scale(x:y:z:from:)` allocates nothing. The FFT plans are shared.
public final class WindowScaler {
    public let layout: SpectrumLayout
    private let fft: CubeFFT
    private let workspace: CubeFFT.Workspace
    private let cubeE: AlignedBuffer<Float>, cubeM: AlignedBuffer<Float>
    private let spectrumE: AlignedBuffer<Float>, spectrumM: AlignedBuffer<Float>
    private let tables: Tables
    /// Per-bin sums: experimental power (or amplitude), model power (or amplitude), read-out.
    private let sumE: UnsafeMutableBufferPointer<Double>
    private let sumM: UnsafeMutableBufferPointer<Double>
    private let readOut: UnsafeMutableBufferPointer<Double>

    /// The layout's tables copied into this scaler's own memory (one copy per thread).
    private struct Tables {
        let shellOrder: UnsafeMutableBufferPointer<Int32>
        let shellBounds: UnsafeMutableBufferPointer<Int32>
        let nodeOrder: UnsafeMutableBufferPointer<Int32>
        let nodeBounds: UnsafeMutableBufferPointer<Int32>
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
            shellOrder = copy(layout.shells.order)
            shellBounds = copy(layout.shells.bounds)
            nodeOrder = copy(layout.nodes.order)
            nodeBounds = copy(layout.nodes.bounds)
            nodeWeightLow = copy(layout.nodes.low)
            nodeWeightHigh = copy(layout.nodes.high)
            profileCount = copy(layout.profileCount)
            rowPhase = copy(layout.rowPhase)
            columnWeight = copy(layout.columnWeight)
        }

        func deallocate() {
            let pointers: [UnsafeMutableRawPointer?] = [
                UnsafeMutableRawPointer(shellOrder.baseAddress), UnsafeMutableRawPointer(shellBounds.baseAddress),
                UnsafeMutableRawPointer(nodeOrder.baseAddress), UnsafeMutableRawPointer(nodeBounds.baseAddress),
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
        let p = layout.padded
        cubeE = AlignedBuffer(count: p * p * p)
        cubeM = AlignedBuffer(count: p * p * p)
        spectrumE = AlignedBuffer(count: 2 * layout.coefficientCount)
        spectrumM = AlignedBuffer(count: 2 * layout.coefficientCount)
        tables = Tables(layout)
        let bins = layout.binCount + 1
        sumE = .allocate(capacity: bins)
        sumM = .allocate(capacity: bins)
        readOut = .allocate(capacity: bins)
    }

    deinit {
        tables.deallocate()
        sumE.deallocate(); sumM.deallocate(); readOut.deallocate()
    }

    /// The scaled value of voxel (x, y, z) of `source`.
    public func scale(x: Int, y: Int, z: Int, from source: WindowSource) -> Float {
        loadCube(source.experimental, outside: source.experimentalOutside, into: cubeE,
                 x: x, y: y, z: z, shape: source.shape)
        loadCube(source.model, outside: source.modelOutside, into: cubeM,
                 x: x, y: y, z: z, shape: source.shape)
        fft.execute(cubeE, spectrumE, using: workspace)
        fft.execute(cubeM, spectrumM, using: workspace)
        switch layout.rule {
        case .exact: return readOutExact()
        case .locscale2: return readOutLocScale2()
        }
    }

    /// The padded cube of `map` around (x, y, z), as the FFT sees it (for tests).
    public func paddedCube(of map: UnsafeBufferPointer<Float>, outside: Float,
                           x: Int, y: Int, z: Int, shape: XYZ<Int>) -> [Float] {
        loadCube(map, outside: outside, into: cubeE, x: x, y: y, z: z, shape: shape)
        return Array(cubeE.buffer)
    }

    /// Writes the w³ cube around (x, y, z) into the padded box as `layout.centreInPaddedBox`
    /// says; cube voxels outside the map get `outside`. The rest of the padded box stays zero.
    private func loadCube(_ map: UnsafeBufferPointer<Float>, outside: Float, into cube: AlignedBuffer<Float>,
                          x: Int, y: Int, z: Int, shape: XYZ<Int>) {
        let w = layout.window, c = layout.centre, p = layout.padded
        let box = cube.pointer
        for i in 0..<w {
            let sz = z - c + i
            let plane = i * p * p
            for j in 0..<w {
                let sy = y - c + j
                let row = box + plane + j * p
                if sz < 0 || sz >= shape.z || sy < 0 || sy >= shape.y {
                    (row + (p - c)).update(repeating: outside, count: c)
                    row.update(repeating: outside, count: w - c)
                    continue
                }
                let source = map.baseAddress! + (sz * shape.y + sy) * shape.x
                // Cube x indices [0, c) land at [p − c, p); [c, w) land at [0, w − c).
                copyRow(source, from: x - c, count: c, width: shape.x, outside: outside, to: row + (p - c))
                copyRow(source, from: x, count: w - c, width: shape.x, outside: outside, to: row)
            }
        }
    }

    @inline(__always)
    private func copyRow(_ source: UnsafePointer<Float>, from start: Int, count: Int, width: Int,
                         outside: Float, to target: UnsafeMutablePointer<Float>) {
        if start >= 0 && start + count <= width {
            for k in 0..<count { target[k] = source[start + k] }
            return
        }
        for k in 0..<count {
            let sx = start + k
            target[k] = (sx >= 0 && sx < width) ? source[sx] : outside
        }
    }

    /// Pass A, streaming over the half-spectrum row by row: replaces each coefficient of the
    /// experimental spectrum by (power or amplitude, read-out real part `Re(F · phase)`) and each
    /// of the model spectrum by (power or amplitude, –). Exact rule: weighted powers; locscale2
    /// rule: unweighted amplitudes.
    @inline(__always)
    private func reduceCoefficients(amplitudes: Bool) {
        let fe = spectrumE.pointer, fm = spectrumM.pointer
        let phase = tables.rowPhase, columnWeight = tables.columnWeight
        let p = layout.padded, half = p / 2 + 1
        for row in 0..<p * p {
            let pr = phase[2 * row], pi = phase[2 * row + 1]
            let e = fe + 2 * row * half, m = fm + 2 * row * half
            for kx in 0..<half {
                let er = e[2 * kx], ei = e[2 * kx + 1]
                let mr = m[2 * kx], mi = m[2 * kx + 1]
                if amplitudes {
                    e[2 * kx] = (er * er + ei * ei).squareRoot()
                    m[2 * kx] = (mr * mr + mi * mi).squareRoot()
                    e[2 * kx + 1] = er * pr - ei * pi
                } else {
                    let w = columnWeight[kx]
                    e[2 * kx] = w * (er * er + ei * ei)
                    m[2 * kx] = w * (mr * mr + mi * mi)
                    e[2 * kx + 1] = w * (er * pr - ei * pi)
                }
            }
        }
    }

    /// Pass B: per shell, the sums of the reduced values (`sumE`, `sumM`, and with
    /// `readOutToo` the read-out parts) in double precision.
    @inline(__always)
    private func sumShells(readOutToo: Bool) {
        let e = spectrumE.pointer, m = spectrumM.pointer
        let order = tables.shellOrder, bounds = tables.shellBounds
        for s in 0 ..< bounds.count - 1 {
            var e0 = 0.0, e1 = 0.0, m0 = 0.0, m1 = 0.0, r0 = 0.0, r1 = 0.0
            var t = Int(bounds[s])
            let end = Int(bounds[s + 1])
            while t + 1 < end {
                let a = 2 * Int(order[t]), b = 2 * Int(order[t + 1])
                e0 += Double(e[a]); m0 += Double(m[a]); r0 += Double(e[a + 1])
                e1 += Double(e[b]); m1 += Double(m[b]); r1 += Double(e[b + 1])
                t += 2
            }
            if t < end {
                let a = 2 * Int(order[t])
                e0 += Double(e[a]); m0 += Double(m[a]); r0 += Double(e[a + 1])
            }
            sumE[s] = e0 + e1
            sumM[s] = m0 + m1
            if readOutToo { readOut[s] = r0 + r1 }
        }
    }

    /// Exact rule: `out = (1/P³) Σ_s sqrt(PM(s)/PE(s)) · R(s)`.
    private func readOutExact() -> Float {
        reduceCoefficients(amplitudes: false)
        sumShells(readOutToo: true)
        var value = 0.0
        for s in 0..<layout.binCount where sumE[s] > 0 {
            value += (sumM[s] / sumE[s]).squareRoot() * readOut[s]
        }
        let size = Double(layout.padded)
        return Float(value / (size * size * size))
    }

    /// locscale2 rule: mean-amplitude profiles on floor shells of raw indices, gains `pM/pE`
    /// interpolated per coefficient (folded into the per-node read-out sums).
    private func readOutLocScale2() -> Float {
        reduceCoefficients(amplitudes: true)
        sumShells(readOutToo: false)
        let e = spectrumE.pointer
        let order = tables.nodeOrder, bounds = tables.nodeBounds
        let low = tables.nodeWeightLow, high = tables.nodeWeightHigh
        readOut.update(repeating: 0)
        for n in 0 ..< bounds.count - 1 {
            var lower = 0.0, upper = 0.0
            for t in Int(bounds[n]) ..< Int(bounds[n + 1]) {
                let real = Double(e[2 * Int(order[t]) + 1])
                lower += Double(low[t]) * real
                upper += Double(high[t]) * real
            }
            readOut[n] += lower
            readOut[n + 1] += upper
        }
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
