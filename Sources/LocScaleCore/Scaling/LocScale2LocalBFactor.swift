import Foundation
import Synchronization

/// LocScale 2.4.1's local B factor (`--compat locscale2`, issue 14 item 3), per voxel as its bundled
/// emmer computes it for one centre: `get_local_bfactor_emmap(emmap_path, center, fsc_resolution, boxsize,
/// standard_notation=True, wilson_cutoff=...)` (include/emmer/ndimage/map_tools.py), either Wilson cutoff
/// branch. LocScale 2's scaling pipeline itself computes no B map. Matched against LocScale 2 by
/// Tests/Fixtures/make-ls2-bfactor-oracle.py. The steps, in its words:
/// 1. `extract_window(emmap, center, boxsize)` (map_utils.py): box `s` = `round_up_to_even(window)`,
///    the slice `[c − s/2 : c + s/2]` on each axis of the (z, y, x) array — the centre at index `s/2`
///    of an even box (one voxel more below it than above). Beyond the box's top numpy clips the slice,
///    so the window shrinks to `min(c + s/2, n) − (c − s/2)` voxels on that axis (never padded).
///    Below index 0 numpy wraps the negative start, which gives an empty window (LocScale 2 raises)
///    on an axis at least `s` long: a centre with `c < s/2` on any axis is a failed fit. (On an axis
///    shorter than `s` numpy would take a wrapped piece instead; that is failed here too.)
/// 2. `compute_radial_profile(window)` (profile_tools.py): `|rfftn(window)|` — no mean removed, no
///    apodisation, no padding — binned by `floor(√(i² + j² + k²))` of the raw, unwrapped indices of the
///    half-spectrum `(Lz, Ly, Lx/2 + 1)`, each bin the mean amplitude (not power) of its coefficients,
///    only the bins `0 ..< Lz/2` kept (`Lz` the window's z extent).
/// 3. `frequency_array(profile, apix)`: `n = Lz/2` frequencies `linspace(0, 1/(2·apix), n)`, i.e.
///    `i / ((n − 1) · 2 · apix)` Å⁻¹ (not the bins' true `i / (Lz · apix)`); `apix` is voxel_size.x.
/// 4. `estimate_bfactor_standard(freq, profile, wilson_cutoff, fsc_cutoff, standard_notation=True)`:
///    from the first bin with `f ≥ 1/wilson` (none: failed) up to, not including, the first with
///    `f ≥ 1/fsc` (all bins when the last is `≤ 1/fsc`), an unweighted least-squares line
///    `ln A = a + slope · f²` (scipy's `curve_fit`; its Levenberg–Marquardt solution agrees with the
///    closed form to ~1e-8) and `B = −4 · slope` Å² (amplitude ∝ `exp(−B f²/4)`).
/// `wilson_cutoff` is `range.from` (LocScale 2's fixed branch: 10 Å; `--guinier-from`), or with `singer`
/// its default branch (`LocScale2SingerCutoff`: per centre from the mask window); `fsc_cutoff` is
/// `range.to` (the run's resolution), Nyquist `2 · apix` when nil.
///
/// Failed fits — B = 0, counted in `LocalBFactors.failedFits`, never NaN — are where LocScale 2
/// raises or gives a non-finite B: an empty window, no bin at or above the Wilson frequency, fewer than
/// 2 bins in the fit (`curve_fit` needs as many points as parameters), a bin of zero mean amplitude
/// (`log 0`). A bin whose mean amplitude is below the resolution of a single-precision FFT
/// (`amplitudeFloor` times the window's `√Σx²`) counts as zero, so a flat window always fails: numpy
/// gives exact zeros there for some window sizes (LocScale 2 raises) and rounding noise of ~1e-15 of
/// the DC term for others, which LocScale 2 fits into a meaningless B.
///
/// One real FFT per voxel; the `s³` plan is made once, and each window shape cut by the box's top
/// (at most `(s/2)³` of them) gets one plan, made the first time any thread meets it. One kernel with
/// its own buffers per thread; each voxel depends on its own window only, so the bits do not depend on
/// the thread count or the slabs.
public struct LocScale2LocalBFactorMap: Sendable {
    /// The scaling window `w`, voxels.
    public let window: Int
    /// LocScale 2's box `s`: `w` rounded up to even, voxels.
    public let box: Int
    /// LocScale 2's `apix`, Å per voxel (the x voxel size, as float32: mrcfile's `voxel_size`).
    public let voxelSize: Double
    /// `fsc_cutoff`, Å.
    let fscCutoff: Double
    /// The Wilson cutoff per centre from the mask window, or nil: `range.from` everywhere.
    public let singer: LocScale2SingerCutoff?
    /// Per window z extent `Lz` (index), the bins fitted with the fixed cutoff, or nil when the fit is undefined.
    let fitBins: [Range<Int>?]
    /// Per window z extent, the frequency of each of its `Lz/2` bins, Å⁻¹.
    let frequencies: [[Double]]
    /// Per window z extent, `f²` of each of its bins, Å⁻².
    let frequencySquares: [[Double]]
    /// The `s³` plan and the plans of the shapes cut by the box's top.
    let plans: WindowPlans

    /// A bin mean amplitude at or below this times the window's `√Σx²` counts as zero: a float32 FFT's
    /// rounding error per coefficient is a few 1e-8 of it.
    public static let amplitudeFloor = 1e-6

    /// - Parameters:
    ///   - window: `w` ≥ 2 voxels (the scaling window; LocScale 2's box is `w` rounded up to even).
    ///   - voxelSize: LocScale 2's `apix`, the map's x voxel size, Å, > 0.
    ///   - range: `from` the fixed Wilson cutoff (default 10 Å; unused with `singer`), `to` the FSC
    ///     resolution (nil: Nyquist).
    ///   - singer: LocScale 2's default Wilson cutoff from the mask; `compute` then needs the mask.
    public init(window: Int, voxelSize: Double, range: GuinierRange = GuinierRange(),
                singer: LocScale2SingerCutoff? = nil, planning: FFTPlanning = .patient) {
        precondition(window >= 2, "window \(window)")
        precondition(voxelSize > 0 && voxelSize.isFinite, "voxel size must be positive")
        self.window = window
        box = window % 2 == 0 ? window : window + 1
        let apix = Double(Float(voxelSize)), fsc = range.to ?? 2 * apix
        let frequencies = (0...box).map { Self.frequencies(count: $0 / 2, voxelSize: apix) }
        self.voxelSize = apix
        self.singer = singer
        fscCutoff = fsc
        self.frequencies = frequencies
        fitBins = frequencies.map { Self.fitBins($0, wilson: 1 / range.from, fsc: 1 / fsc) }
        frequencySquares = frequencies.map { $0.map { $0 * $0 } }
        plans = WindowPlans(box: box, planning: planning)
    }

    /// numpy's `linspace(0, 1/(apix·2), count)`: `i · step` with `step = (1/(apix·2))/(count − 1)`, the
    /// last element exactly `1/(apix·2)`.
    static func frequencies(count: Int, voxelSize: Double) -> [Double] {
        let end = 1 / (voxelSize * 2)
        guard count > 1 else { return count == 1 ? [0] : [] }
        let step = end / Double(count - 1)
        return (0..<count).map { $0 == count - 1 ? end : Double($0) * step }
    }

    /// `estimate_bfactor_standard`'s `start_index ..< end_index`, nil where it raises (no bin at or
    /// above the Wilson frequency) or `curve_fit` would (fewer than 2 bins).
    static func fitBins(_ f: [Double], wilson: Double, fsc: Double) -> Range<Int>? {
        guard let last = f.last, let start = f[0] >= wilson ? 0 : f.firstIndex(where: { $0 >= wilson }) else {
            return nil
        }
        let end = last <= fsc ? f.count : f.firstIndex { $0 >= fsc }!
        return end - start >= 2 ? start ..< end : nil
    }

    /// The local B of each of `voxels` (linear (z, y, x) indices in the box) of `source`'s experimental
    /// map, in the same order, with `threads` threads taking batches of 32 voxels from a shared counter.
    /// `source` must hold every plane within `s/2` of the voxels' planes that lies in the box; with
    /// `singer`, `mask` holds the mask's values on the same planes as `source.experimental`.
    public func compute(_ source: WindowSource, voxels: [Int], threads: Int,
                        mask: UnsafeBufferPointer<Float>? = nil) -> LocalBFactors {
        precondition(singer == nil || mask?.count == source.experimental.count, "the Singer cutoff needs the mask")
        let sharedMask = UnsafeSendable(mask)
        let values = LocalBFactors.fitInParallel(
            voxels, threads: threads, makeKernel: { LocScale2LocalBFactorKernel(self) },
            bfactor: { kernel, voxel in kernel.bfactor(at: voxel, from: source, mask: sharedMask.value) })
        return LocalBFactors(failedAsNaN: values, computedVoxels: voxels.count)
    }
}

/// The r2c plans of LocScale 2's windows: the whole box `s³`, made at once with the run's planning, and
/// each shape cut by the box's top (every extent in `s/2 + 1 ... s`), made on first use under a lock
/// with `.estimate` (measuring each of up to `(s/2)³` shapes would cost more than the edge voxels) and kept.
final class WindowPlans: Sendable {
    let box: Int
    let whole: RealToComplexPlan3D
    private let cut: Mutex<[Int: RealToComplexPlan3D]>

    init(box: Int, planning: FFTPlanning) {
        self.box = box
        whole = RealToComplexPlan3D(nz: box, ny: box, nx: box, planning: planning)
        cut = Mutex([:])
    }

    /// The plan of an `(lz, ly, lx)` window (each `1 ... s`).
    func plan(_ lz: Int, _ ly: Int, _ lx: Int) -> RealToComplexPlan3D {
        if lz == box && ly == box && lx == box { return whole }
        let key = (lz * (box + 1) + ly) * (box + 1) + lx
        return cut.withLock { plans in
            if let plan = plans[key] { return plan }
            let plan = RealToComplexPlan3D(nz: lz, ny: ly, nx: lx, planning: .estimate)
            plans[key] = plan
            return plan
        }
    }
}

/// One thread's buffers for `LocScale2LocalBFactorMap`: the window, its half-spectrum, the bin of each
/// raw index triple, the per-bin sums and counts. `bfactor(at:from:)` allocates nothing (but the first
/// time it meets a window shape cut by the box's top, whose plan it makes).
final class LocScale2LocalBFactorKernel {
    private let map: LocScale2LocalBFactorMap
    private let cube: AlignedBuffer<Float>
    private let spectrum: AlignedBuffer<Float>
    /// `floor(√(kz² + ky² + kx²))` for `kz, ky < s`, `kx ≤ s/2`, (kz, ky, kx) with kx fastest.
    private let bin: UnsafeMutableBufferPointer<UInt16>
    private let sums: UnsafeMutableBufferPointer<Double>
    private let counts: UnsafeMutableBufferPointer<Int>

    init(_ map: LocScale2LocalBFactorMap) {
        self.map = map
        let s = map.box, half = s / 2 + 1
        cube = AlignedBuffer(count: s * s * s)
        spectrum = AlignedBuffer(count: 2 * s * s * half)
        bin = .allocate(capacity: s * s * half)
        for kz in 0..<s {
            for ky in 0..<s {
                for kx in 0..<half {
                    bin[(kz * s + ky) * half + kx] = UInt16(Double(kz * kz + ky * ky + kx * kx).squareRoot())
                }
            }
        }
        sums = .allocate(capacity: s / 2)
        counts = .allocate(capacity: s / 2)
    }

    deinit { bin.deallocate(); sums.deallocate(); counts.deallocate() }

    /// B of voxel `index` in Å², nil when LocScale 2's fit is undefined there.
    func bfactor(at index: Int, from source: WindowSource, mask: UnsafeBufferPointer<Float>?) -> Float? {
        let s = map.box, h = s / 2, shape = source.shape
        let x = index % shape.x, y = (index / shape.x) % shape.y, z = index / (shape.x * shape.y)
        guard x >= h && y >= h && z >= h else { return nil }
        let lz = min(z + h, shape.z) - (z - h), ly = min(y + h, shape.y) - (y - h), lx = min(x + h, shape.x) - (x - h)
        var bins = map.fitBins[lz]
        if let singer = map.singer, let mask {
            let count = Self.countAtLeast(LocScale2SingerCutoff.maskThreshold, mask, x - h, y - h, z - h, lz, ly, lx,
                                          source)
            let wilson = singer.local(maskVoxels: count, voxelSize: map.voxelSize, fscCutoff: map.fscCutoff)
            bins = LocScale2LocalBFactorMap.fitBins(map.frequencies[lz], wilson: 1 / wilson, fsc: 1 / map.fscCutoff)
        }
        guard let fit = bins else { return nil }
        let norm = loadWindow(x - h, y - h, z - h, lz, ly, lx, from: source)
        map.plans.plan(lz, ly, lx).execute(cube, spectrum)
        sumBins(lz, ly, lx, below: fit.upperBound)
        let floor = LocScale2LocalBFactorMap.amplitudeFloor * norm
        let squares = map.frequencySquares[lz]
        var meanX = 0.0, meanY = 0.0
        for b in fit {
            let amplitude = sums[b] / Double(counts[b])
            guard amplitude > floor else { return nil }
            sums[b] = log(amplitude)
            meanX += squares[b]
            meanY += sums[b]
        }
        let m = Double(fit.count)
        meanX /= m
        meanY /= m
        var sxy = 0.0, sxx = 0.0
        for b in fit {
            let dx = squares[b] - meanX
            sxy += dx * (sums[b] - meanY)
            sxx += dx * dx
        }
        let bfactor = Float(-4 * sxy / sxx)
        return bfactor.isFinite ? bfactor : nil
    }

    /// The `(lz, ly, lx)` window from box voxel (x0, y0, z0), contiguous, into `cube`; returns `√Σx²`.
    private func loadWindow(_ x0: Int, _ y0: Int, _ z0: Int, _ lz: Int, _ ly: Int, _ lx: Int,
                            from source: WindowSource) -> Double {
        let shape = source.shape
        precondition(source.planes.contains(z0) && source.planes.contains(z0 + lz - 1),
                     "planes \(z0) ..< \(z0 + lz) are not in the slab \(source.planes)")
        var squares = 0.0
        let first = source.experimental.baseAddress! + ((z0 - source.firstPlane) * shape.y + y0) * shape.x + x0
        for i in 0..<lz {
            for j in 0..<ly {
                let line = first + (i * shape.y + j) * shape.x
                let row = cube.pointer + (i * ly + j) * lx
                for k in 0..<lx {
                    let v = line[k]
                    row[k] = v
                    squares += Double(v) * Double(v)
                }
            }
        }
        return squares.squareRoot()
    }

    /// Voxels of the `(lz, ly, lx)` window from (x0, y0, z0) of `values` (laid out as `source.experimental`)
    /// that are `≥ threshold`.
    private static func countAtLeast(_ threshold: Float, _ values: UnsafeBufferPointer<Float>, _ x0: Int, _ y0: Int,
                                     _ z0: Int, _ lz: Int, _ ly: Int, _ lx: Int, _ source: WindowSource) -> Int {
        let shape = source.shape
        var count = 0
        for i in 0..<lz {
            for j in 0..<ly {
                let line = values.baseAddress! + ((z0 + i - source.firstPlane) * shape.y + y0 + j) * shape.x + x0
                for k in 0..<lx where line[k] >= threshold { count += 1 }
            }
        }
        return count
    }

    /// Per bin `0 ..< bins` the sum and count of the half-spectrum's amplitudes `|F|`.
    private func sumBins(_ lz: Int, _ ly: Int, _ lx: Int, below bins: Int) {
        let s = map.box, half = s / 2 + 1, cutHalf = lx / 2 + 1
        sums.update(repeating: 0)
        counts.update(repeating: 0)
        let f = spectrum.pointer
        for kz in 0..<lz {
            for ky in 0..<ly {
                let table = bin.baseAddress! + (kz * s + ky) * half
                let row = f + 2 * (kz * ly + ky) * cutHalf
                for kx in 0..<cutHalf {
                    let b = Int(table[kx])
                    guard b < bins else { continue }
                    let re = Double(row[2 * kx]), im = Double(row[2 * kx + 1])
                    sums[b] += (re * re + im * im).squareRoot()
                    counts[b] += 1
                }
            }
        }
    }
}

/// LocScale 2's default Wilson cutoff of `get_local_bfactor_emmap` (`wilson_cutoff="singer"`, Singer 2021:
/// `f = 0.309 · M^(−1/12)` for a molecular weight `M` in Da), as emmer computes it:
/// - global (`find_wilson_cutoff(mask_path=…)` → `measure_mask_parameters(detailed_report=True)`): `M` =
///   0.8 Da/Å³ × the volume of the mask voxels `≥ 0.99` (`count · apix³`, `apix³` in float32);
/// - per centre (`measure_mask_parameters(mask=window)` → `find_wilson_cutoff(num_atoms=…)`): the window's
///   voxels `≥ 0.99` as protein of 1.35 g/cm³ in atoms of 13.14 Da, `n = round(count · (apix · 1e−8)³ ·
///   1.35 / 13.14 · N_A)`, `M = 13 · n` (no atoms: `M^(−1/12)` is infinite, the cutoff 0), clipped to
///   `[1.5 · fsc_cutoff, global]` (numpy's `clip`: the global one when they cross).
public struct LocScale2SingerCutoff: Sendable, Equatable {
    /// The global cutoff, Å.
    public let global: Double
    /// emmer's `edge_threshold` (`binarise_map(mask, 0.99, threshold_type="gteq")`, compared in float32).
    public static let maskThreshold: Float = 0.99

    /// - Parameters:
    ///   - maskVoxels: voxels of the whole mask `≥ maskThreshold` (a sum over the slabs).
    ///   - voxelSize: the mask's x voxel size, Å.
    public init(maskVoxels: Int, voxelSize: Double) {
        let apix = Float(voxelSize)
        let weight = Double(maskVoxels) * Double(powf(apix, 3)) * 0.8
        global = 1 / (0.309 * pow(weight, -1.0 / 12))
    }

    /// The cutoff of a centre whose mask window has `maskVoxels` voxels `≥ maskThreshold`, Å.
    func local(maskVoxels: Int, voxelSize: Double, fscCutoff: Double) -> Double {
        let volume = Double(maskVoxels) * pow(voxelSize * 1e-8, 3)
        let atoms = (1.35 * volume / 13.14 * 6.02214076e23).rounded(.toNearestOrEven)
        let cutoff = 1 / (0.309 * pow(atoms * 13, -1.0 / 12))
        return min(max(cutoff, fscCutoff * 1.5), global)
    }
}

/// `scale --bfactor-map` with `--compat locscale2`: LocScale 2's definition with the fixed Wilson
/// cutoff (`range.from`), every voxel its own fit.
extension LocScale2LocalBFactorMap: LocalBEstimator {
    /// The planes `[c − s/2, c + s/2)` of every centre plane `c` of `planes`, within the box.
    public func heldPlanes(for planes: Range<Int>, depth: Int) -> Range<Int> {
        guard !planes.isEmpty else { return planes }
        return max(0, planes.lowerBound - box / 2) ..< min(depth, planes.upperBound - 1 + box / 2)
    }

    public func compute(_ source: WindowSource, voxels: [Int], threads: Int) -> LocalBFactors {
        compute(source, voxels: voxels, threads: threads, mask: nil)
    }
}
