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
        let shell: UnsafeMutableBufferPointer<Int32>
        let weight: UnsafeMutableBufferPointer<Float>
        let node: UnsafeMutableBufferPointer<Int32>
        let nodeWeightLow: UnsafeMutableBufferPointer<Float>
        let nodeWeightHigh: UnsafeMutableBufferPointer<Float>
        let profileCount: UnsafeMutableBufferPointer<Double>
        let rowPhase: UnsafeMutableBufferPointer<Float>

        init(_ layout: SpectrumLayout) {
            func copy<T>(_ array: [T]) -> UnsafeMutableBufferPointer<T> {
                let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(array.count, 1))
                _ = buffer.initialize(from: array)
                return buffer
            }
            switch layout.rule {
            case .exact: shell = copy(layout.shell)
            case .locscale2: shell = copy(layout.profileShell)
            }
            weight = copy(layout.weight)
            node = copy(layout.node)
            nodeWeightLow = copy(layout.nodeWeightLow)
            nodeWeightHigh = copy(layout.nodeWeightHigh)
            profileCount = copy(layout.profileCount)
            rowPhase = copy(layout.rowPhase)
        }

        func deallocate() {
            shell.deallocate(); weight.deallocate(); node.deallocate()
            nodeWeightLow.deallocate(); nodeWeightHigh.deallocate(); profileCount.deallocate()
            rowPhase.deallocate()
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
            target.update(from: source + start, count: count)
            return
        }
        for k in 0..<count {
            let sx = start + k
            target[k] = (sx >= 0 && sx < width) ? source[sx] : outside
        }
    }

    /// Exact rule: `out = (1/P³) Σ_s sqrt(PM(s)/PE(s)) · R(s)`.
    private func readOutExact() -> Float {
        let bins = layout.binCount
        sumE.update(repeating: 0); sumM.update(repeating: 0); readOut.update(repeating: 0)
        let fe = spectrumE.pointer, fm = spectrumM.pointer
        let shell = tables.shell, weight = tables.weight, phase = tables.rowPhase
        let p = layout.padded, half = p / 2 + 1
        for row in 0..<p * p {
            let pr = phase[2 * row], pi = phase[2 * row + 1]
            for j in row * half ..< (row + 1) * half {
                let s = Int(shell[j])
                let w = weight[j]
                let er = fe[2 * j], ei = fe[2 * j + 1]
                let mr = fm[2 * j], mi = fm[2 * j + 1]
                sumE[s] += Double(w * (er * er + ei * ei))
                sumM[s] += Double(w * (mr * mr + mi * mi))
                readOut[s] += Double(w * (er * pr - ei * pi))
            }
        }
        var value = 0.0
        for s in 0..<bins where sumE[s] > 0 {
            value += (sumM[s] / sumE[s]).squareRoot() * readOut[s]
        }
        let size = Double(p)
        return Float(value / (size * size * size))
    }

    /// locscale2 rule: mean-amplitude profiles on floor shells of raw indices, gains `pM/pE`
    /// interpolated per coefficient (folded into the per-node read-out sums).
    private func readOutLocScale2() -> Float {
        let nodes = layout.binCount
        sumE.update(repeating: 0); sumM.update(repeating: 0); readOut.update(repeating: 0)
        let fe = spectrumE.pointer, fm = spectrumM.pointer
        let shell = tables.shell, node = tables.node
        let low = tables.nodeWeightLow, high = tables.nodeWeightHigh, phase = tables.rowPhase
        let p = layout.padded, half = p / 2 + 1
        for row in 0..<p * p {
            let pr = phase[2 * row], pi = phase[2 * row + 1]
            for j in row * half ..< (row + 1) * half {
                let s = Int(shell[j])
                let er = fe[2 * j], ei = fe[2 * j + 1]
                let mr = fm[2 * j], mi = fm[2 * j + 1]
                sumE[s] += Double((er * er + ei * ei).squareRoot())
                sumM[s] += Double((mr * mr + mi * mi).squareRoot())
                let real = er * pr - ei * pi
                let n = Int(node[j])
                readOut[n] += Double(low[j] * real)
                readOut[n + 1] += Double(high[j] * real)
            }
        }
        var value = 0.0
        for s in 0..<nodes {
            // Mean amplitudes; the count cancels in the ratio but not in 0/0 → 0.
            let e = sumE[s] / tables.profileCount[s], m = sumM[s] / tables.profileCount[s]
            let gain = m / e
            if gain.isFinite { value += gain * readOut[s] }
        }
        let w = Double(layout.padded)
        return Float(value / (w * w * w))
    }
}
