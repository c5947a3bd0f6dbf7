import Foundation
import Synchronization

/// The shells a local B is fitted over, as resolutions in Å.
public struct GuinierRange: Codable, Sendable, Equatable {
    /// Lowest resolution of the fit (largest d), Å; LocScale 2's Wilson cutoff is 10 Å too.
    public var from: Double
    /// Highest resolution of the fit (smallest d), Å; nil: Nyquist (2 voxels).
    public var to: Double?

    /// `from` and `to` must be positive (the caller checks its options).
    public init(from: Double = 10, to: Double? = nil) {
        precondition(from > 0 && (to ?? 1) > 0, "Guinier range limits must be positive")
        self.from = from
        self.to = to
    }
}

/// The local B factor of the experimental map (issue 14, docs/KERNEL.md §8), per voxel from its
/// own window, the same definition in exact and fast mode and for any padding:
/// 1. the `w³` cube around the voxel (index `w/2` at the voxel; beyond the box the source's
///    extension value), minus its mean, times the separable Hann window
///    `h(i) = ½ − ½ cos(2π(i + 1)/(w + 1))`, `i = 0 ..< w` (numpy's `hanning(w + 2)[1:-1]`);
/// 2. its unpadded `w³` FFT; per shell `s = round(|k|)` (wrapped integer frequencies over the
///    whole spectrum) the mean power `P(s)`, at `f = s/(w·voxel)` Å⁻¹;
/// 3. the white-noise power subtracted, `N = σ² · Σ h³²` (the apodised window's expected noise
///    power per coefficient; σ² the map's noise variance, `LocalBFactorNoise`; none when nil);
/// 4. the shells with `1/from ≤ f ≤ min(1/to, Nyquist)`, in increasing order, up to (not
///    including) the first whose corrected power `P − N` is not above `N/2` (the signal sunk
///    below half the noise); an unweighted least-squares line `ln(P − N) = a + slope · f²` through
///    them and `B = −2 · slope` Å² — amplitude ∝ `exp(−B f²/4)`, LocScale 2's "standard notation".
/// Fewer than 3 shells, or a non-finite B, give B = 0, counted in `LocalBFactors.failedFits`.
///
/// With `stride > 1` B is computed only on the lattice voxels whose x, y and z are multiples of
/// `stride` (global coordinates, so independent of the slab split) and each voxel takes the B
/// of its nearest lattice voxel (`latticeVoxel`). One real FFT of `w³` per computed voxel; one
/// kernel with its own buffers per thread, FFTW plan made once; each voxel depends on its own
/// window only, so the bits do not depend on the thread count or the slabs.
public struct LocalBFactorMap: Sendable {
    /// Window edge `w`, voxels.
    public let window: Int
    /// Lattice spacing of the computed voxels, voxels (1: every voxel).
    public let stride: Int
    /// The expected noise power per coefficient `σ² · Σ h³²`; 0 without a noise estimate.
    public let noisePower: Double
    /// Shells fitted (at most; the noise may stop the fit earlier), in increasing order.
    public let fitShells: [Int]
    /// `f²` (Å⁻²) of each shell of `fitShells`.
    let fitSquares: [Double]
    /// The 1-D Hann window.
    let hann: [Float]
    /// Whole-spectrum coefficients per shell.
    let shellCounts: [Double]
    let plan: RealToComplexPlan3D

    /// - Parameters:
    ///   - window: `w` ≥ 4 voxels (the scaling window).
    ///   - voxelSize: Å per voxel (the mean over the axes when they differ), > 0.
    ///   - noiseVariance: σ² of the map's white noise (map units²), or nil for no correction.
    ///   - stride: ≥ 1.
    public init(window: Int, voxelSize: Double, range: GuinierRange = GuinierRange(), noiseVariance: Double?,
                stride: Int = 1, planning: FFTPlanning = .patient) {
        precondition(window >= 4 && stride >= 1, "window \(window), stride \(stride)")
        precondition(voxelSize > 0 && voxelSize.isFinite, "voxel size must be positive")
        precondition(noiseVariance.map { $0 >= 0 && $0.isFinite } ?? true, "noise variance must be finite, ≥ 0")
        self.window = window
        self.stride = stride
        let w = window
        hann = (0..<w).map { Float(0.5 - 0.5 * cos(2 * Double.pi * Double($0 + 1) / Double(w + 1))) }
        let squares = hann.reduce(0.0) { $0 + Double($1) * Double($1) }
        noisePower = (noiseVariance ?? 0) * squares * squares * squares
        var counts = [Double](repeating: 0, count: Self.shell(w / 2, w / 2, w / 2, w: w) + 1)
        for kz in 0..<w {
            for ky in 0..<w {
                for kx in 0..<w { counts[Self.shell(kz, ky, kx, w: w)] += 1 }
            }
        }
        shellCounts = counts
        let lowest = 1 / range.from, nyquist = 0.5 / voxelSize
        let highest = min(range.to.map { 1 / $0 } ?? nyquist, nyquist)
        let tolerance = 1e-9
        let frequencies = counts.indices.map { Double($0) / (Double(w) * voxelSize) }
        fitShells = frequencies.indices.filter {
            frequencies[$0] >= lowest * (1 - tolerance) && frequencies[$0] <= highest * (1 + tolerance)
        }
        fitSquares = fitShells.map { frequencies[$0] * frequencies[$0] }
        plan = RealToComplexPlan3D(nz: w, ny: w, nx: w, planning: planning)  // as `prepare` makes it
    }

    /// Makes the FFT plan a map of `window` uses, so that it is in the process's FFTW wisdom
    /// (a run exports rank 0's wisdom to the other ranks before they make their maps).
    public static func prepare(window: Int, planning: FFTPlanning) {
        _ = RealToComplexPlan3D(nz: window, ny: window, nx: window, planning: planning)
    }

    /// Shell `round(|k|)` of the coefficient (kz, ky, kx) of a `w³` spectrum (wrapped frequencies).
    static func shell(_ kz: Int, _ ky: Int, _ kx: Int, w: Int) -> Int {
        func wrapped(_ k: Int) -> Double { Double(k <= w / 2 ? k : k - w) }
        let z = wrapped(kz), y = wrapped(ky), x = wrapped(kx)
        return Int((z * z + y * y + x * x).squareRoot().rounded())
    }

    /// The lattice voxel whose B voxel `index` (linear (z, y, x) in a box of `shape`) takes:
    /// per axis the nearest multiple of `stride`, halves rounded up, within the box. It lies at
    /// most `stride/2` planes from the voxel, except within `stride` planes of the box's last
    /// plane (up to `stride − 1` there, for `stride ≥ 3`): `heldPlanes(for:depth:)` gives the
    /// planes a slab needs.
    public func latticeVoxel(_ index: Int, shape: XYZ<Int>) -> Int {
        guard stride > 1 else { return index }
        let x = index % shape.x, y = (index / shape.x) % shape.y, z = index / (shape.x * shape.y)
        return (nearest(z, shape.z) * shape.y + nearest(y, shape.y)) * shape.x + nearest(x, shape.x)
    }

    /// The lattice coordinate voxel coordinate `c` of an axis of `n` voxels takes (nondecreasing in `c`).
    private func nearest(_ c: Int, _ n: Int) -> Int { min((c + stride / 2) / stride, (n - 1) / stride) * stride }

    /// The local B of each of `voxels` (linear (z, y, x) indices in the box) of `source`'s
    /// experimental map, in the same order, with `threads` threads taking batches of 32 computed
    /// voxels from a shared counter. `source` must hold `heldPlanes(for:depth:)` of the voxels'
    /// planes.
    public func compute(_ source: WindowSource, voxels: [Int], threads: Int) -> LocalBFactors {
        let lattice = voxels.map { latticeVoxel($0, shape: source.shape) }
        let computed = stride > 1 ? Array(Set(lattice)).sorted() : voxels
        let values = LocalBFactors.fitInParallel(computed, threads: threads, makeKernel: { LocalBFactorKernel(self) },
                                                 bfactor: { kernel, voxel in kernel.bfactor(at: voxel, from: source) })
        var bfactors = [Float](repeating: 0, count: voxels.count)
        if stride > 1 {
            let position = Dictionary(uniqueKeysWithValues: computed.enumerated().map { ($1, $0) })
            for n in voxels.indices { bfactors[n] = values[position[lattice[n]]!] }
        } else {
            bfactors = values
        }
        return LocalBFactors(failedAsNaN: bfactors, computedVoxels: computed.count)
    }
}

extension LocalBFactorMap: LocalBEstimator {
    /// The planes the windows of the (lattice voxels of the) voxels in `planes` reach, within
    /// `0 ..< depth`: from `w/2` below the lowest lattice plane to `w − 1 − w/2` above the highest.
    public func heldPlanes(for planes: Range<Int>, depth: Int) -> Range<Int> {
        guard !planes.isEmpty else { return planes }
        let c = window / 2
        let lowest = nearest(planes.lowerBound, depth), highest = nearest(planes.upperBound - 1, depth)
        return max(0, lowest - c) ..< min(depth, highest - c + window)
    }
}

/// A per-voxel local B definition the engine runs on each rank's slab (`scale --bfactor-map`):
/// `LocalBFactorMap` (docs/KERNEL.md §8), or another one (LocScale 2's, for `--compat locscale2`)
/// — the engine knows only this protocol. Each voxel's B must depend on the planes
/// `heldPlanes(for:depth:)` names only, so that any slab split gives the same bits.
public protocol LocalBEstimator: Sendable {
    /// The z-planes of a box of `depth` planes that `compute` reads for voxels whose planes lie in
    /// `planes`, within `0 ..< depth` (empty for empty `planes`).
    func heldPlanes(for planes: Range<Int>, depth: Int) -> Range<Int>
    /// The local B (Å²) of each of `voxels` (linear (z, y, x) indices in the box) of `source`'s
    /// experimental map, with `threads` threads; failed fits 0 and counted.
    func compute(_ source: WindowSource, voxels: [Int], threads: Int) -> LocalBFactors
}

/// A local B map's values for a voxel list.
public struct LocalBFactors: Sendable, Equatable {
    /// B per voxel of the list, Å²; 0 where the fit failed.
    public let bfactors: [Float]
    /// Voxels of the list whose B is 0 because their (lattice voxel's) fit failed.
    public let failedFits: Int
    /// Windows transformed (the lattice voxels with `stride > 1`).
    public let computedVoxels: Int
}

extension LocalBFactors {
    /// Each voxel's B from `bfactor`, NaN where it returns nil (a failed fit), with `threads` threads
    /// taking batches of 32 voxels from a shared counter, each with its own kernel from `makeKernel`:
    /// the loop of every local B definition. Each value depends on its voxel only, not on the threads.
    static func fitInParallel<Kernel>(_ voxels: [Int], threads: Int, makeKernel: @escaping @Sendable () -> Kernel,
                                      bfactor: @escaping @Sendable (Kernel, Int) -> Float?) -> [Float] {
        var values = [Float](repeating: 0, count: voxels.count)
        let next = Atomic<Int>(0), chunk = 32
        voxels.withUnsafeBufferPointer { list in
            values.withUnsafeMutableBufferPointer { output in
                let work = UnsafeSendable((list, output))
                LocalScaling.runOnThreads(max(1, threads)) { _ in
                    let kernel = makeKernel()
                    let (list, out) = work.value
                    while true {
                        let first = next.add(chunk, ordering: .relaxed).oldValue
                        if first >= list.count { break }
                        for n in first ..< min(first + chunk, list.count) { out[n] = bfactor(kernel, list[n]) ?? .nan }
                    }
                }
            }
        }
        return values
    }

    /// `values` with each NaN (a failed fit) set to 0 and counted in `failedFits`.
    init(failedAsNaN values: [Float], computedVoxels: Int) {
        var values = values, failed = 0
        for n in values.indices where values[n].isNaN {
            values[n] = 0
            failed += 1
        }
        self.init(bfactors: values, failedFits: failed, computedVoxels: computedVoxels)
    }
}

/// One thread's buffers for `LocalBFactorMap`: the apodised cube, its half-spectrum, the shell
/// table of the half-spectrum and the per-shell sums. `bfactor(at:from:)` allocates nothing.
final class LocalBFactorKernel {
    private let map: LocalBFactorMap
    private let cube: AlignedBuffer<Float>
    private let spectrum: AlignedBuffer<Float>
    /// Shell of each half-spectrum coefficient.
    private let shell: UnsafeMutableBufferPointer<UInt16>
    /// 2 for the coefficients whose conjugate is not in the half-spectrum, else 1; per kx.
    private let multiplicity: UnsafeMutableBufferPointer<Double>
    private let sums: UnsafeMutableBufferPointer<Double>
    private let hann: UnsafeMutableBufferPointer<Float>
    /// Per fitted shell: `ln(P − N)` of the last voxel.
    private let logs: UnsafeMutableBufferPointer<Double>

    init(_ map: LocalBFactorMap) {
        self.map = map
        let w = map.window, half = w / 2 + 1
        cube = AlignedBuffer(count: w * w * w)
        spectrum = AlignedBuffer(count: 2 * w * w * half)
        shell = .allocate(capacity: w * w * half)
        for kz in 0..<w {
            for ky in 0..<w {
                for kx in 0..<half { shell[(kz * w + ky) * half + kx] = UInt16(LocalBFactorMap.shell(kz, ky, kx, w: w)) }
            }
        }
        multiplicity = .allocate(capacity: half)
        for kx in 0..<half { multiplicity[kx] = kx == 0 || 2 * kx == w ? 1 : 2 }
        sums = .allocate(capacity: map.shellCounts.count)
        hann = .allocate(capacity: w)
        _ = hann.initialize(from: map.hann)
        logs = .allocate(capacity: max(map.fitShells.count, 1))
    }

    deinit {
        shell.deallocate(); multiplicity.deallocate(); sums.deallocate(); hann.deallocate(); logs.deallocate()
    }

    /// B of voxel `index` in Å², nil when its fit fails.
    func bfactor(at index: Int, from source: WindowSource) -> Float? {
        loadCube(index, from: source)
        map.plan.execute(cube, spectrum)
        sumShells()
        let noise = map.noisePower
        var count = 0
        for (b, s) in map.fitShells.enumerated() {
            let corrected = sums[s] / map.shellCounts[s] - noise
            guard corrected > 0.5 * noise else { break }
            logs[b] = log(corrected)
            count += 1
        }
        guard count >= 3 else { return nil }
        var meanX = 0.0, meanY = 0.0
        for b in 0..<count {
            meanX += map.fitSquares[b]
            meanY += logs[b]
        }
        meanX /= Double(count)
        meanY /= Double(count)
        var sxy = 0.0, sxx = 0.0
        for b in 0..<count {
            let dx = map.fitSquares[b] - meanX
            sxy += dx * (logs[b] - meanY)
            sxx += dx * dx
        }
        let b = Float(-2 * sxy / sxx)
        return b.isFinite ? b : nil
    }

    /// The cube around `index`, minus its mean, times the Hann window, into `cube`.
    private func loadCube(_ index: Int, from source: WindowSource) {
        let w = map.window, c = w / 2, shape = source.shape
        let x = index % shape.x, y = (index / shape.x) % shape.y, z = index / (shape.x * shape.y)
        let outside = source.experimentalOutside
        var total = 0.0
        for i in 0..<w {
            let sz = z - c + i
            let planeInside = sz >= 0 && sz < shape.z
            precondition(!planeInside || source.planes.contains(sz), "plane \(sz) is not in the slab \(source.planes)")
            for j in 0..<w {
                let sy = y - c + j
                let row = cube.pointer + (i * w + j) * w
                guard planeInside && sy >= 0 && sy < shape.y else {
                    for k in 0..<w { row[k] = outside }
                    total += Double(outside) * Double(w)
                    continue
                }
                let line = source.experimental.baseAddress! + ((sz - source.firstPlane) * shape.y + sy) * shape.x
                var rowTotal = 0.0
                for k in 0..<w {
                    let sx = x - c + k
                    let v = sx >= 0 && sx < shape.x ? line[sx] : outside
                    row[k] = v
                    rowTotal += Double(v)
                }
                total += rowTotal
            }
        }
        let mean = Float(total / Double(w * w * w))
        for i in 0..<w {
            for j in 0..<w {
                let hij = hann[i] * hann[j]
                let row = cube.pointer + (i * w + j) * w
                for k in 0..<w { row[k] = (row[k] - mean) * (hij * hann[k]) }
            }
        }
    }

    /// Per shell the power `Σ |F(k)|²` over the whole spectrum (the half-spectrum, weighted).
    private func sumShells() {
        let w = map.window, half = w / 2 + 1
        sums.update(repeating: 0)
        let f = spectrum.pointer
        for row in 0..<w * w {
            let base = row * half
            for kx in 0..<half {
                let re = f[2 * (base + kx)], im = f[2 * (base + kx) + 1]
                sums[Int(shell[base + kx])] += multiplicity[kx] * Double(re * re + im * im)
            }
        }
    }
}

/// The white-noise variance `σ²` a local B map subtracts (`LocalBFactorMap(noiseVariance:)`):
/// the variance of the confidence map's noise region (`NoiseRegion` with its default window:
/// LocScale 2's four cubes at the box's y and x edges on the central planes), whose per-plane
/// sums (`VoxelCubes.planeSums`, `planeSquares`) add up across any slab split to the same
/// `SampleStatistics`. nil — no correction — when the region is masked to zero (more than
/// `ConfidenceError.zeroLimit` of it exactly 0, as in EMD-3488) or constant.
///
/// Half maps would give the noise everywhere, `var((H1 − H2)/2)`, also where the particle
/// reaches the box edge; the edge region needs only the map and is what the confidence map
/// already measures, so it is the one built.
public enum LocalBFactorNoise {
    /// σ² from the noise region's statistics, or nil when they show no noise.
    public static func variance(from noise: SampleStatistics) -> Double? {
        noise.zeroFraction > ConfidenceError.zeroLimit || !(noise.variance > 0) ? nil : noise.variance
    }

    /// σ² of a whole map held in one process (tests, benchmarks), or nil (also when the region
    /// does not fit the box).
    public static func variance(of map: Volume) -> Double? {
        let shape = map.grid.shape
        guard let region = NoiseRegion(shape: shape, window: NoiseRegion.defaultWindow(shape: shape)) else { return nil }
        let planes = 0..<shape.z
        let (sums, zeros) = region.cubes.planeSums(map.values, held: planes, shape: shape)
        let mean = SampleStatistics.mean(sums: sums, count: region.voxelCount)
        let squares = region.cubes.planeSquares(map.values, held: planes, shape: shape, mean: mean)
        return variance(from: SampleStatistics(sums: sums, zeros: zeros, squares: squares, count: region.voxelCount))
    }
}
