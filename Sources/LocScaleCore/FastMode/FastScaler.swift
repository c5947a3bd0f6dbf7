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
/// or one rank's planes under MPI. Memory (docs/FASTMODE.md, "Memory"): the two maps'
/// half-spectra, made in place in the caller's buffers; one work grid with room for the cube
/// sums' halo planes; the octant transform of the shell kernels (an eighth of the grid; the
/// octant itself is laid out in the free work grid); per voxel the output sum and one power that
/// becomes the gain (16 bytes; the voxels themselves are a bit per grid voxel); parts of the
/// column transforms (a 32nd) and of the sliding DFTs' sums (a 16th). The shell kernels depend
/// only on (w, P, N) but are made in the shell loop, not kept: they cost DCTs of an eighth of
/// the grid, and keeping them would take a grid per shell.
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

    /// The scaled values of `voxels` (this process's planes of the grid) of the experimental and
    /// model maps given in `experimental` and `model`: this process's planes in the grid's layout
    /// (`grid.makeBuffer()`, filled by `FastBox.fill`), overwritten by their half-spectra. Every
    /// cube of a listed voxel must lie inside the grid, and the maps must be padded so that the
    /// FFTs do not wrap (`FastBox`). Collective under MPI. Every shell's local powers go to
    /// `observer` (the seam for per-voxel outputs of the shell powers, docs/KERNEL.md §7); the
    /// values do not depend on it.
    public func scale(experimental: AlignedBuffer<Float>, model: AlignedBuffer<Float>,
                      voxels: VoxelRows, diagnostics: FastDiagnostics = FastDiagnostics(),
                      progress: ScalingProgress? = nil,
                      observer: (any ShellPowerSweepObserver)? = nil) throws -> [Float] {
        precondition(experimental.count >= grid.bufferCount && model.count >= grid.bufferCount)
        let size = grid.size, count = voxels.count
        var lowShellGains: [[Float]] = []
        if exactShells >= 0 {
            let sliding = LowShellPowers(shells: exactShells, layout: layout, grid: grid, threads: threads)
            var pe = [Double](repeating: 0, count: count), pm = pe
            for s in 0...exactShells {
                try pe.withUnsafeMutableBufferPointer {
                    try sliding.measure(shell: s, map: experimental.pointer, at: voxels, into: $0)
                }
                try pm.withUnsafeMutableBufferPointer {
                    try sliding.measure(shell: s, map: model.pointer, at: voxels, into: $0)
                }
                diagnostics.powers?(s, pe, pm)
                report(shell: s, pe, pm, to: observer)
                let floor = try powerFloor(pe, at: voxels)
                lowShellGains.append(zip(pe, pm).map { Self.gain($0, $1, floor: floor) })
            }
        }

        grid.forward(experimental)
        grid.forward(model)
        let work = sums.makeBuffer(), workPlanes = sums.ownPlanes(of: work)
        // The shell kernels' octants are laid out in the work grid while it is free (a buffer of
        // their own only where a rank's slab is smaller than an eighth of the grid).
        let scratch = work.count >= evenKernels.octantCount ? work : AlignedBuffer(count: evenKernels.octantCount)
        let readout = ReadoutSpectrum(grid: grid, layout: layout, cube: evenKernels)
        let w = layout.window
        let inverseCount = Float(1 / Double(size.x * size.y * size.z))
        let analysisScale = inverseCount / Float(Double(w * w * w).squareRoot())
        // Per voxel: the sum over shells, and the estimated experimental power that becomes the
        // gain (as a Double holding the Float gain). The model's power is kept only to show it.
        let keepsPowers = diagnostics.powers != nil || observer != nil
        var output = [Double](repeating: 0, count: count)
        var gains: [Double] = [], modelPower: [Double] = []

        for s in 0..<shellCount {
            let lags = lagSums.sums(shell: s)
            var shellGains: [Float] = []
            if let injected = diagnostics.gains?(s) {
                shellGains = injected
            } else if s <= exactShells {
                swap(&shellGains, &lowShellGains[s])
            }
            if s > exactShells {
                if gains.isEmpty { gains = [Double](repeating: 0, count: count) }
                if keepsPowers && modelPower.isEmpty { modelPower = [Double](repeating: 0, count: count) }
                // 1/N³ normalises the inverse FFT.
                makeAnalysisKernel(lags: lags, scratch: scratch)
                try gains.withUnsafeMutableBufferPointer { pe in
                    try localPower(of: experimental, scale: analysisScale, work: work, at: voxels,
                                   into: StoredSum(target: pe.baseAddress))
                }
                let floor = try powerFloor(gains, at: voxels)
                try gains.withUnsafeMutableBufferPointer { pe in
                    try modelPower.withUnsafeMutableBufferPointer { pm in
                        if keepsPowers {
                            try localPower(of: model, scale: analysisScale, work: work, at: voxels,
                                           into: StoredSum(target: pm.baseAddress))
                        } else {
                            try localPower(of: model, scale: analysisScale, work: work, at: voxels,
                                           into: GainFromSum(power: pe.baseAddress, floor: floor))
                        }
                    }
                }
                if keepsPowers {
                    diagnostics.powers?(s, gains, modelPower)
                    report(shell: s, gains, modelPower, to: observer)
                    gains.withUnsafeMutableBufferPointer { g in
                        let pointers = UnsafeSendable((g, modelPower))
                        parallelChunks(g.count, threads: threads) { part in
                            let (g, pm) = pointers.value
                            for n in part { g[n] = Double(Self.gain(g[n], pm[n], floor: floor)) }
                        }
                    }
                }
            }

            readout.prepare(lags: lags, scratch: scratch)
            readout.multiply(experimental, into: workPlanes, scale: inverseCount, threads: threads)
            grid.inverse(workPlanes)
            if shellGains.isEmpty {
                gains.withUnsafeBufferPointer { readOut(gains: $0, shell: workPlanes, voxels: voxels, into: &output) }
            } else {
                shellGains.withUnsafeBufferPointer {
                    readOut(gains: $0, shell: workPlanes, voxels: voxels, into: &output)
                }
            }
            progress?.add(count * (s + 1) / shellCount - count * s / shellCount)
        }
        gains = []
        modelPower = []
        return output.map { Float($0) }
    }

    /// `output[n] += gains[n] · v(voxel n)` in double precision, `v` this shell's read-out grid
    /// (this process's planes), row by row over the threads.
    private func readOut<Gain: BinaryFloatingPoint & Sendable>(
        gains: UnsafeBufferPointer<Gain>, shell v: UnsafeMutablePointer<Float>, voxels: VoxelRows,
        into output: inout [Double]) {
        let rowLength = grid.rowLength
        output.withUnsafeMutableBufferPointer { out in
            let target = UnsafeSendable((out, gains, v))
            parallelChunks(voxels.first.count - 1, threads: threads) { rows in
                let (out, gains, v) = target.value
                for r in rows {
                    let row = v + r * rowLength
                    voxels.forEach(inRow: r) { n, x in out[n] += Double(gains[n]) * Double(row[x]) }
                }
            }
        }
    }

    /// Stores each voxel's cube sum.
    /// (The pointers are nil only for an empty voxel list, when nothing is taken.)
    private struct StoredSum: CubeSumSink, @unchecked Sendable {
        let target: UnsafeMutablePointer<Double>?
        func take(_ n: Int, _ value: Double) { target![n] = value }
    }

    /// Turns each voxel's experimental power in `power` into its gain, the cube sum being the
    /// model's power.
    private struct GainFromSum: CubeSumSink, @unchecked Sendable {
        let power: UnsafeMutablePointer<Double>?
        let floor: Double
        func take(_ n: Int, _ value: Double) { power![n] = Double(FastScaler.gain(power![n], value, floor: floor)) }
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
    fileprivate static func gain(_ experimental: Double, _ model: Double, floor: Double) -> Float {
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

    /// `Λ_s`, the DFT of `λ_s = tri · D_s` (even along every axis: a DCT-I of one octant), into
    /// `evenKernels.spectrum`.
    private func makeAnalysisKernel(lags: UnsafeBufferPointer<Float>, scratch: AlignedBuffer<Float>) {
        let w = layout.window, p = layout.padded
        evenKernels.transform(reach: w - 1, scratch: scratch) { dx, dy, dz in
            Float((w - dx) * (w - dy) * (w - dz)) * lags[(dz * p + dy) * p + dx]
        }
    }

    /// The power of `spectrum` through the analysis filter in every listed voxel's cube, into
    /// `sink`: `u = IFFT(F · A_s)`, then the cube sums of `u²`.
    private func localPower(of spectrum: AlignedBuffer<Float>, scale: Float, work: AlignedBuffer<Float>,
                            at voxels: VoxelRows, into sink: some CubeSumSink) throws {
        let planes = sums.ownPlanes(of: work)
        multiplyByAnalysisFilter(spectrum, scale: scale, into: planes)
        grid.inverse(planes)
        try sums.sums(of: work, at: voxels, into: sink)
    }

    /// `work = spectrum · A_s`, `A_s = sqrt(max(Λ_s, 0) / w³) · scale` per local half-spectrum
    /// coefficient (one real factor, made from the octant spectrum as it is needed, not held).
    private func multiplyByAnalysisFilter(_ spectrum: AlignedBuffer<Float>, scale: Float,
                                          into work: UnsafeMutablePointer<Float>) {
        let size = grid.size, half = size.x / 2 + 1, first = grid.planes.lowerBound
        let pointers = UnsafeSendable((evenKernels, evenKernels.spectrum.pointer, spectrum.pointer, work))
        parallelChunks(grid.planes.count, threads: threads) { chunk in
            let (transform, lambda, f, u) = pointers.value
            for plane in chunk {
                for fy in 0..<size.y {
                    let row = (plane * size.y + fy) * half
                    let from = transform.index(fx: 0, fy: fy, fz: first + plane, size: size)
                    for fx in 0..<half {
                        let a = max(lambda[from + fx], 0).squareRoot() * scale, j = row + fx
                        u[2 * j] = f[2 * j] * a
                        u[2 * j + 1] = f[2 * j + 1] * a
                    }
                }
            }
        }
    }
}
