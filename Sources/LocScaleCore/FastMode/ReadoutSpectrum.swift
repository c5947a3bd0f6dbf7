import Foundation

/// The grid spectrum `Φ_s` of exact mode's read-out kernel for one shell, `φ_s(d) = D_s(d)/P³`
/// on the lags `d = centre − x`, `x ∈ [0, w)³` — without a grid FFT. `D_s` is even along every
/// axis, so on the symmetric part of the lag box, `|d_a| ≤ r`, the kernel's DFT is a DCT-I
/// (`r = centre` for odd windows, whose lag box is symmetric). An even window's lag box also has
/// the faces `d_a = centre`: a face pinned on the axes `A` contributes
/// `Π_{a∈A} exp(−2πi f_a·centre/N_a)` times the DCT-I of the face over the other axes. So
/// `Φ = Σ_A Π_{a∈A} ε_a(f_a) · C_A(f)`, with the 3-D term from `EvenKernelTransform` and the
/// face terms (2-D, 1-D, a number) by direct separable sums — a few per cent of a grid FFT.
final class ReadoutSpectrum: @unchecked Sendable {
    private let grid: SlabGrid
    private let layout: SpectrumLayout
    private let cube: EvenKernelTransform
    /// Half-width of the symmetric part of the lag box.
    private let reach: Int
    /// Even windows: the lag box has faces at `+centre`.
    private let hasFaces: Bool
    /// Per axis (x, y, z): `(j == 0 ? 1 : 2) · cos(2π f j / N)` for `f ≤ N/2`, `j ≤ reach`.
    private let cosines: [[Double]]
    /// Per axis: `exp(−2πi f·centre/N)` for every grid frequency index `f` (cos, sin parts).
    private let facePhase: [(cos: [Float], sin: [Float])]
    /// Face terms: pinned x → (z, y); pinned y → (z, x); pinned z → (y, x); pinned xy → z;
    /// pinned xz → y; pinned yz → x; all pinned → one number. Folded frequency indices.
    private var pinnedX: [Double] = [], pinnedY: [Double] = [], pinnedZ: [Double] = []
    private var pinnedXY: [Double] = [], pinnedXZ: [Double] = [], pinnedYZ: [Double] = []
    private var pinnedXYZ = 0.0

    init(grid: SlabGrid, layout: SpectrumLayout, cube: EvenKernelTransform) {
        self.grid = grid
        self.layout = layout
        self.cube = cube
        hasFaces = layout.window % 2 == 0
        reach = hasFaces ? layout.centre - 1 : layout.centre
        let size = grid.size, reach = reach, centre = layout.centre
        cosines = (0..<3).map { axis in
            let n = size[axis]
            return (0...(n / 2)).flatMap { f in
                (0...reach).map { j in (j == 0 ? 1 : 2) * cos(2 * Double.pi * Double(f * j) / Double(n)) }
            }
        }
        facePhase = (0..<3).map { axis in
            let n = size[axis]
            let angles = (0..<n).map { -2 * Double.pi * Double(($0 * centre) % n) / Double(n) }
            return (angles.map { Float(cos($0)) }, angles.map { Float(sin($0)) })
        }
    }

    /// Makes the terms of shell `s` from its lag sums `D_s` (the `P³` grid); `scratch` as
    /// `EvenKernelTransform.transform` needs it.
    func prepare(lags: UnsafeBufferPointer<Float>, scratch: AlignedBuffer<Float>) {
        let p = layout.padded, octant = cube.octant, c = layout.centre
        let scale = 1 / pow(Double(p), 3)
        func v(_ dx: Int, _ dy: Int, _ dz: Int) -> Double { Double(lags[(dz * p + dy) * p + dx]) * scale }
        cube.transform(reach: reach, scratch: scratch) { dx, dy, dz in Float(v(dx, dy, dz)) }
        guard hasFaces else { return }
        let (nx, ny, nz) = (octant.x, octant.y, octant.z)
        pinnedX = separableSum(rows: nz, axisRows: 2, columns: ny, axisColumns: 1) { jz, jy in v(c, jy, jz) }
        pinnedY = separableSum(rows: nz, axisRows: 2, columns: nx, axisColumns: 0) { jz, jx in v(jx, c, jz) }
        pinnedZ = separableSum(rows: ny, axisRows: 1, columns: nx, axisColumns: 0) { jy, jx in v(jx, jy, c) }
        pinnedXY = separableSum(rows: nz, axisRows: 2, columns: 1, axisColumns: nil) { jz, _ in v(c, c, jz) }
        pinnedXZ = separableSum(rows: ny, axisRows: 1, columns: 1, axisColumns: nil) { jy, _ in v(c, jy, c) }
        pinnedYZ = separableSum(rows: nx, axisRows: 0, columns: 1, axisColumns: nil) { jx, _ in v(jx, c, c) }
        pinnedXYZ = v(c, c, c)
    }

    /// `out[f1][f2] = Σ_{j1, j2 ≤ reach} cos_1(f1, j1) · cos_2(f2, j2) · value(j1, j2)` (one axis
    /// only when `axisColumns` is nil).
    private func separableSum(rows: Int, axisRows: Int, columns: Int, axisColumns: Int?,
                              _ value: (Int, Int) -> Double) -> [Double] {
        let r = reach, width = r + 1
        var partial = [Double](repeating: 0, count: width * columns)
        for j1 in 0...r {
            if let axisColumns {
                for f2 in 0..<columns {
                    var sum = 0.0
                    for j2 in 0...r { sum += cosines[axisColumns][f2 * width + j2] * value(j1, j2) }
                    partial[j1 * columns + f2] = sum
                }
            } else {
                partial[j1] = value(j1, 0)
            }
        }
        var out = [Double](repeating: 0, count: rows * columns)
        for f1 in 0..<rows {
            for j1 in 0...r {
                let weight = cosines[axisRows][f1 * width + j1]
                for f2 in 0..<columns { out[f1 * columns + f2] += weight * partial[j1 * columns + f2] }
            }
        }
        return out
    }

    /// `work = spectrum · Φ_s · scale` over this process's half-spectrum planes.
    func multiply(_ spectrum: AlignedBuffer<Float>, into work: UnsafeMutablePointer<Float>, scale: Float, threads: Int) {
        let size = grid.size, half = size.x / 2 + 1, first = grid.planes.lowerBound
        let octant = cube.octant, hasFaces = hasFaces
        let faces = hasFaces ? (pinnedX.map(Float.init), pinnedY.map(Float.init), pinnedZ.map(Float.init),
                                pinnedXY.map(Float.init), pinnedXZ.map(Float.init), pinnedYZ.map(Float.init), Float(pinnedXYZ))
                             : ([], [], [], [], [], [], 0)
        let phase = facePhase
        let pointers = UnsafeSendable((spectrum.pointer, work, cube.spectrum.pointer))
        parallelChunks(grid.planes.count, threads: threads) { chunk in
            let (f, out, c0) = pointers.value
            let (cx, cy, cz, cxy, cxz, cyz, cxyz) = faces
            for plane in chunk {
                let fz = first + plane, z = EvenKernelTransform.fold(fz, size.z)
                let (ezc, ezs) = (phase[2].cos[fz], phase[2].sin[fz])
                for fy in 0..<size.y {
                    let y = EvenKernelTransform.fold(fy, size.y)
                    let row = (plane * size.y + fy) * half
                    let cube = (z * octant.y + y) * octant.x
                    if !hasFaces {
                        for fx in 0..<half {
                            let phi = c0[cube + fx] * scale
                            out[2 * (row + fx)] = f[2 * (row + fx)] * phi
                            out[2 * (row + fx) + 1] = f[2 * (row + fx) + 1] * phi
                        }
                        continue
                    }
                    let (eyc, eys) = (phase[1].cos[fy], phase[1].sin[fy])
                    let (yzc, yzs) = (eyc * ezc - eys * ezs, eyc * ezs + eys * ezc)
                    // The terms pinned on x share exp(−2πi fx·c/Nx): K = Cx + εy Cxy + εz Cxz + εyεz Cxyz.
                    let kr = cx[z * octant.y + y] + eyc * cxy[z] + ezc * cxz[y] + yzc * cxyz
                    let ki = eys * cxy[z] + ezs * cxz[y] + yzs * cxyz
                    for fx in 0..<half {
                        let (exc, exs) = (phase[0].cos[fx], phase[0].sin[fx])
                        let a = cy[z * octant.x + fx], b = cz[y * octant.x + fx], d = cyz[fx]
                        let re = (c0[cube + fx] + eyc * a + ezc * b + yzc * d + exc * kr - exs * ki) * scale
                        let im = (eys * a + ezs * b + yzs * d + exc * ki + exs * kr) * scale
                        let (fr, fi) = (f[2 * (row + fx)], f[2 * (row + fx) + 1])
                        out[2 * (row + fx)] = fr * re - fi * im
                        out[2 * (row + fx) + 1] = fr * im + fi * re
                    }
                }
            }
        }
    }
}
