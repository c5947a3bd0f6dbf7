import Foundation

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

/// The local B factor of the experimental map at every scaled voxel (issue 14, ARCHITECTURE §4
/// "an output"): the Guinier fit of `ln A(s)` against `s²` over the shells of the voxel's own
/// window with `1/from ≤ s ≤ min(1/to, Nyquist)`, `s = 1/d` in Å⁻¹, and `B = −4 · slope` in Å² —
/// the convention `A(s) ∝ exp(−B s²/4)`, LocScale 2's `estimate_bfactor_standard(...,
/// standard_notation=True)`. The fit is an unweighted least-squares line through one point per
/// shell; the shell amplitude `A(s)` is what the scaling rule itself measures:
/// - exact rule (and fast mode, which estimates it): the RMS amplitude `sqrt(PE(s)/n(s))` of the
///   zero-padded window's shell, so `s = shell/(P·voxel)` with `P` the padded box: pad 2 fits
///   twice as many (correlated) shells as pad 1;
/// - locscale2 rule: the mean amplitude of LocScale 2's profile shell `n`, `s = n/(w·voxel)`.
///   LocScale 2.4.1 writes no per-voxel B map (it fits one global B and a B distribution at
///   sampled centres), so this is our definition on its shells.
/// A voxel whose fit has fewer than 3 shells, a shell of zero power, or a non-finite result gets
/// B = 0 and counts in `failedFits`.
///
/// As a `ShellSpectrumObserver` it takes the exact kernel's per-voxel sums
/// (`LocalScaling.scale(…, observer:)`); as a `ShellPowerSweepObserver` fast mode's per-shell
/// powers (`FastScaler.scale(…, observer:)`). Voxels are positions in the list given to the
/// kernel; one observer serves all threads of a run (each voxel written by one thread).
public final class LocalBFactorObserver: ShellSpectrumObserver, ShellPowerSweepObserver, @unchecked Sendable {
    /// Voxels the results are kept for.
    public let voxelCount: Int
    /// Bins of the layout the fit uses, in increasing order.
    public let fitBins: [Int]
    /// Per bin: `(x − x̄)/Σ(x − x̄)²` for the fitted bins (`x = s²`), so that the slope is
    /// `Σ weight · ln A`; 0 elsewhere. With `ln A = e · (ln sum − ln n)` (`e` = ½ for powers, 1
    /// for amplitude sums, `n` the bin's coefficients) the slope is `e · (Σ weight · ln sum − offset)`.
    private let weight: UnsafeMutableBufferPointer<Double>
    /// `Σ weight · ln n` over the fitted bins.
    private let offset: Double
    private let fitted: UnsafeMutableBufferPointer<Bool>
    /// `fitBins` in memory of its own (read per voxel), and their number.
    private let bins: UnsafeMutableBufferPointer<Int>
    private let binCount: Int
    /// `B = scale · (Σ weight · ln(sum) − offset)`: −4 · ½ for powers, −4 for amplitudes.
    private let scale: Double
    /// Per voxel: `Σ weight · ln(sum)` and whether the fit failed.
    private let slope: UnsafeMutableBufferPointer<Double>
    private let failed: UnsafeMutableBufferPointer<Bool>

    /// - Parameters:
    ///   - layout: the kernel's layout (for fast mode `FastScaler.layout`).
    ///   - voxelSize: Å per voxel (the mean over the axes when they differ), > 0.
    ///   - voxelCount: voxels in the list the kernel is given.
    public init(layout: SpectrumLayout, voxelSize: Double, voxelCount: Int, range: GuinierRange = GuinierRange()) {
        precondition(voxelSize > 0 && voxelSize.isFinite, "voxel size must be positive")
        self.voxelCount = voxelCount
        let lowest = 1 / range.from, nyquist = 0.5 / voxelSize
        let highest = min(range.to.map { 1 / $0 } ?? nyquist, nyquist)
        let tolerance = 1e-9
        let frequencies = layout.binFrequencies.map { $0 / voxelSize }
        fitBins = frequencies.indices.filter {
            frequencies[$0] >= lowest * (1 - tolerance) && frequencies[$0] <= highest * (1 + tolerance)
        }
        let squared = fitBins.map { frequencies[$0] * frequencies[$0] }  // x = s², Å⁻²
        let mean = squared.reduce(0, +) / Double(max(fitBins.count, 1))
        let spread = squared.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        weight = .allocate(capacity: layout.binCount)
        weight.initialize(repeating: 0)
        fitted = .allocate(capacity: layout.binCount)
        fitted.initialize(repeating: false)
        let coefficients = layout.coefficientsPerBin
        var offset = 0.0
        for (s, x) in zip(fitBins, squared) {
            weight[s] = spread > 0 ? (x - mean) / spread : 0
            fitted[s] = true
            offset += weight[s] * log(coefficients[s])
        }
        self.offset = offset
        binCount = fitBins.count
        bins = .allocate(capacity: max(binCount, 1))
        _ = bins.initialize(from: fitBins)
        scale = layout.binSumsArePowers ? -2 : -4
        slope = .allocate(capacity: max(voxelCount, 1))
        slope.initialize(repeating: 0)
        failed = .allocate(capacity: max(voxelCount, 1))
        failed.initialize(repeating: binCount < 3)
    }

    deinit {
        weight.deallocate(); fitted.deallocate(); bins.deallocate(); slope.deallocate(); failed.deallocate()
    }

    /// Exact kernel: the whole fit of one voxel from its bins' sums.
    public func observe(voxel: Int, experimental: UnsafeBufferPointer<Double>, model: UnsafeBufferPointer<Double>) {
        precondition(voxel < voxelCount, "voxel \(voxel) beyond the observer's \(voxelCount)")
        var sum = 0.0, bad = binCount < 3
        for b in 0..<binCount {
            let s = bins[b], value = experimental[s]
            if value > 0 { sum += weight[s] * log(value) } else { bad = true }
        }
        slope[voxel] = sum
        failed[voxel] = bad
    }

    /// Fast mode: adds shell `shell`'s term to the fits of `voxels` (shells come in increasing
    /// order, so the sum runs in the exact kernel's order).
    public func observe(shell: Int, experimental: UnsafeBufferPointer<Double>, model: UnsafeBufferPointer<Double>,
                        voxels: Range<Int>) {
        precondition(voxels.upperBound <= voxelCount, "voxels \(voxels) beyond the observer's \(voxelCount)")
        guard fitted[shell] else { return }
        let w = weight[shell]
        for n in voxels {
            let value = experimental[n]
            if value > 0 { slope[n] += w * log(value) } else { failed[n] = true }
        }
    }

    /// B of voxel `n` in Å², nil when its fit failed.
    private func bfactor(_ n: Int) -> Float? {
        let b = Float(scale * (slope[n] - offset))
        return failed[n] || !b.isFinite ? nil : b
    }

    /// Local B per voxel in Å², in the voxel list's order; 0 where the fit failed.
    public var bfactors: [Float] { (0..<voxelCount).map { bfactor($0) ?? 0 } }

    /// Voxels whose fit failed (B set to 0).
    public var failedFits: Int { (0..<voxelCount).reduce(0) { $0 + (bfactor($1) == nil ? 1 : 0) } }
}
