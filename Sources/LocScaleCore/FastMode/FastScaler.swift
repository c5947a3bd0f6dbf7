import Foundation

/// Hooks into a fast-mode run, for tests and diagnostics.
public struct FastDiagnostics: Sendable {
    /// Replaces the gains of shell `s` (one per voxel, in the order of the voxel list): with the
    /// exact mode's gains the output is the exact output to float rounding.
    public var gains: (@Sendable (Int) -> [Float])?
    /// Receives the experimental and model power of shell `s` at every voxel that the gains
    /// come from (estimated, or exact for the lowest shells).
    public var powers: (@Sendable (Int, [Double], [Double]) -> Void)?

    public init(gains: (@Sendable (Int) -> [Float])? = nil,
                powers: (@Sendable (Int, [Double], [Double]) -> Void)? = nil) {
        self.gains = gains
        self.powers = powers
    }
}

/// `--method fast` (FASTMODE.md): the matched filter bank. For each Fourier shell `s` of exact
/// mode's padded cube, whole-grid FFTs give the local shell powers of the experimental and model
/// maps (analysis filter `A_s`, then sums of squares over each voxel's cube), their ratio the gain,
/// and the synthesis filter — exact mode's own read-out kernel — the shell's contribution to
/// every voxel. The lowest shells' powers can be measured exactly by sliding DFTs.
///
/// Works on one slab of a `SlabGrid` (the padded box, FFT size N): the whole grid in one process,
/// or one rank's planes under MPI. Memory: three grid-sized buffers, half of one more, the cube
/// sums' held slab, and per voxel the output and the gains. The shell kernels depend only on
/// (w, P, N) but are made in the shell loop, not kept: they cost DCTs of an eighth of the grid,
/// and keeping them would take a grid per shell (docs/FASTMODE.md).
public final class FastScaler {
    public let grid: SlabGrid
    /// Exact mode's layout for the window and pad factor (shells, `P`, centre).
    public let layout: SpectrumLayout
    /// Shells `0 ... exactShells` get their powers by sliding DFTs (−1: none).
    public let exactShells: Int
    public let threads: Int
    private let lagSums: ShellLagSums
    private let sums: CubeSums
    private let evenKernels: EvenKernelTransform

    public init(grid: SlabGrid, window: Int, padFactor: Double, exactShells: Int, threads: Int) {
        self.grid = grid
        layout = SpectrumLayout(window: window, rule: .exact(padFactor: padFactor))
        self.exactShells = min(exactShells, layout.binCount - 1)
        self.threads = max(1, threads)
        lagSums = ShellLagSums(layout: layout)
        sums = CubeSums(window: window, centre: layout.centre, threads: self.threads, grid: grid)
        evenKernels = EvenKernelTransform(grid: grid.size, threads: self.threads)
    }

    /// Number of shells, `round(√3·P/2) + 1`.
    public var shellCount: Int { layout.binCount }

    /// The scaled values of `voxels` — linear indices `(z·ny + y)·nx + x` into this process's
    /// planes of the grid, z counted from its first plane — of the experimental and model maps
    /// given on those planes (`planes.count · ny · nx` floats each, x fastest; emptied once their
    /// spectra exist, to save memory). Every cube of a listed voxel must lie inside the grid, and
    /// the maps must be padded so that the FFTs do not wrap (`FastBox`). Collective under MPI.
    /// Every shell's local powers go to `observer` (the seam for per-voxel outputs of the shell
    /// powers, docs/KERNEL.md §7); the values do not depend on it.
    public func scale(experimental: inout [Float], model: inout [Float],
                      voxels: [Int], diagnostics: FastDiagnostics = FastDiagnostics(),
                      progress: ScalingProgress? = nil,
                      observer: (any ShellPowerSweepObserver)? = nil) throws -> [Float] {
        let size = grid.size
        let rows = VoxelRows(voxels: voxels, grid: grid)
        let positions = rows.positions
        var lowShellGains: [[Float]] = []
        do {
            let powers = try experimental.withUnsafeBufferPointer { e in
                try model.withUnsafeBufferPointer { m in
                    try LowShellPowers(shells: exactShells, layout: layout, grid: grid, threads: threads)
                        .measure(experimental: e, model: m, at: rows)
                }
            }
            for (s, (pe, pm)) in zip(powers.experimental, powers.model).enumerated() {
                diagnostics.powers?(s, pe, pm)
                report(shell: s, pe, pm, to: observer)
                let floor = try powerFloor(pe, at: rows)
                lowShellGains.append(zip(pe, pm).map { Self.gain($0, $1, floor: floor) })
            }
        }

        let experimentalSpectrum = experimental.withUnsafeBufferPointer(load)
        experimental = []
        let modelSpectrum = model.withUnsafeBufferPointer(load)
        model = []
        grid.forward(experimentalSpectrum)
        grid.forward(modelSpectrum)
        let work = grid.makeBuffer()
        let analysis = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, grid.planes.count * grid.spectrumPlaneCount))
        defer { analysis.deallocate() }
        let readout = ReadoutSpectrum(grid: grid, layout: layout, cube: evenKernels)
        let w = layout.window
        let inverseCount = Float(1 / Double(size.x * size.y * size.z))
        let analysisScale = inverseCount / Float(Double(w * w * w).squareRoot())

        var output = [Double](repeating: 0, count: voxels.count)
        var gains = [Float](repeating: 0, count: voxels.count)
        for s in 0..<shellCount {
            let lags = lagSums.sums(shell: s)
            if s <= exactShells {
                gains = lowShellGains[s]
            } else {
                // 1/N³ normalises the inverse FFT.
                makeAnalysisFilter(lags: lags, into: analysis, scale: analysisScale)
                let pe = try localPower(of: experimentalSpectrum, filter: analysis, work: work, at: rows)
                let pm = try localPower(of: modelSpectrum, filter: analysis, work: work, at: rows)
                diagnostics.powers?(s, pe, pm)
                report(shell: s, pe, pm, to: observer)
                let floor = try powerFloor(pe, at: rows)
                gains.withUnsafeMutableBufferPointer { g in
                    let target = UnsafeSendable(g)
                    parallelChunks(g.count, threads: threads) { part in
                        for n in part { target.value[n] = Self.gain(pe[n], pm[n], floor: floor) }
                    }
                }
            }
            if let injected = diagnostics.gains?(s) { gains = injected }

            readout.prepare(lags: lags)
            readout.multiply(experimentalSpectrum, into: work, scale: inverseCount, threads: threads)
            grid.inverse(work)
            output.withUnsafeMutableBufferPointer { out in
                let target = UnsafeSendable((out, gains, positions, work.pointer))
                parallelChunks(out.count, threads: threads) { part in
                    let (out, gains, positions, v) = target.value
                    for n in part { out[n] += Double(gains[n]) * Double(v[positions[n]]) }
                }
            }
            progress?.add(voxels.count * (s + 1) / shellCount - voxels.count * s / shellCount)
        }
        return output.map { Float($0) }
    }

    /// Hands shell `shell`'s powers at every voxel to `observer`, the voxels split over the threads.
    private func report(shell: Int, _ experimental: [Double], _ model: [Double],
                        to observer: (any ShellPowerSweepObserver)?) {
        guard let observer else { return }
        experimental.withUnsafeBufferPointer { e in
            model.withUnsafeBufferPointer { m in
                let powers = UnsafeSendable((e, m))
                parallelChunks(e.count, threads: threads) { part in
                    observer.observe(shell: shell, experimental: powers.value.0, model: powers.value.1, voxels: part)
                }
            }
        }
    }

    /// `sqrt(model / experimental)`, or 0 when the experimental power is not above `floor`.
    @inline(__always)
    private static func gain(_ experimental: Double, _ model: Double, floor: Double) -> Float {
        experimental > floor ? Float((model / experimental).squareRoot()) : 0
    }

    /// Fraction of a shell's mean experimental power (over the voxels to scale) below which a
    /// voxel's power is taken for rounding noise and its gain is 0 (ARCHITECTURE §1.5).
    /// Where the map is zero, exact mode's power is 0 but the estimate is the rounding noise
    /// that the float grid FFTs leave of the rest of the map, and the gain, dividing by it, made
    /// spikes of 1e4 (EMD-3488 unmasked) to 1e7 (a blob in zeros). 1e-6 removes them and leaves
    /// every masked voxel of the fixture and EMD-3488 as it was, bit for bit.
    static let relativePowerFloor = 1e-6

    /// `relativePowerFloor` times the mean of `powers` over every process's voxels. Summed per
    /// plane, then over the planes in order, so that the floor is the same bits for any number
    /// of processes (collective under MPI).
    private func powerFloor(_ powers: [Double], at voxels: VoxelRows) throws -> Double {
        let ny = grid.size.y, first = grid.planes.lowerBound
        var perPlane = [Double](repeating: 0, count: 2 * grid.size.z)
        for plane in 0 ..< grid.planes.count {
            let voxelsOfPlane = voxels.first[plane * ny] ..< voxels.first[(plane + 1) * ny]
            var sum = 0.0
            for n in voxelsOfPlane { sum += powers[n] }
            perPlane[2 * (first + plane)] = sum
            perPlane[2 * (first + plane) + 1] = Double(voxelsOfPlane.count)
        }
        let all = try grid.sumOverProcesses(perPlane)
        var sum = 0.0, count = 0.0
        for plane in 0 ..< grid.size.z {
            sum += all[2 * plane]
            count += all[2 * plane + 1]
        }
        return count > 0 ? Self.relativePowerFloor * sum / count : 0
    }

    /// A buffer holding `values` (this process's planes, x fastest) in the grid's row layout.
    private func load(_ values: UnsafeBufferPointer<Float>) -> AlignedBuffer<Float> {
        let buffer = grid.makeBuffer()
        let nx = grid.size.x, rowLength = grid.rowLength
        for row in 0 ..< grid.planes.count * grid.size.y {
            (buffer.pointer + row * rowLength).update(from: values.baseAddress! + row * nx, count: nx)
        }
        return buffer
    }

    /// `A_s = sqrt(max(Λ_s, 0) / w³) · scale` per local half-spectrum coefficient, `Λ_s` the DFT
    /// of `λ_s = tri · D_s` (even along every axis: a DCT-I of one octant).
    private func makeAnalysisFilter(lags: UnsafeBufferPointer<Float>, into filter: UnsafeMutableBufferPointer<Float>,
                                    scale: Float) {
        let w = layout.window, p = layout.padded
        evenKernels.transform(reach: w - 1) { dx, dy, dz in
            Float((w - dx) * (w - dy) * (w - dz)) * lags[(dz * p + dy) * p + dx]
        }
        let size = grid.size, half = size.x / 2 + 1, first = grid.planes.lowerBound
        let pointers = UnsafeSendable((evenKernels, evenKernels.spectrum.pointer, filter.baseAddress!))
        parallelChunks(grid.planes.count, threads: threads) { chunk in
            let (transform, spectrum, out) = pointers.value
            for plane in chunk {
                for fy in 0..<size.y {
                    let row = (plane * size.y + fy) * half
                    let from = transform.index(fx: 0, fy: fy, fz: first + plane, size: size)
                    for fx in 0..<half { out[row + fx] = max(spectrum[from + fx], 0).squareRoot() * scale }
                }
            }
        }
    }

    /// The power of `spectrum` through `filter` in every listed voxel's cube: `u = IFFT(F · A)`,
    /// then the cube sums of `u²`.
    private func localPower(of spectrum: AlignedBuffer<Float>, filter: UnsafeMutableBufferPointer<Float>,
                            work: AlignedBuffer<Float>, at voxels: VoxelRows) throws -> [Double] {
        multiply(spectrum, byReal: filter, into: work)
        grid.inverse(work)
        return try sums.sums(of: work, squared: true, at: voxels)
    }

    /// `work = spectrum · filter`, one real factor per coefficient.
    private func multiply(_ spectrum: AlignedBuffer<Float>, byReal filter: UnsafeMutableBufferPointer<Float>,
                          into work: AlignedBuffer<Float>) {
        let perPlane = grid.spectrumPlaneCount
        let pointers = UnsafeSendable((spectrum.pointer, filter.baseAddress!, work.pointer))
        parallelChunks(grid.planes.count, threads: threads) { chunk in
            let (f, a, u) = pointers.value
            for j in chunk.lowerBound * perPlane ..< chunk.upperBound * perPlane {
                u[2 * j] = f[2 * j] * a[j]
                u[2 * j + 1] = f[2 * j + 1] * a[j]
            }
        }
    }
}
