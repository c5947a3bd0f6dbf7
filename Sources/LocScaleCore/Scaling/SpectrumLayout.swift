import Foundation

/// Everything about the padded window and its half-spectrum that is the same for every voxel:
/// where the cube goes in the padded box and, per r2c coefficient, its shell and weight.
/// Built once per run, read by every thread.
public struct SpectrumLayout: Sendable {
    /// Window (cube edge) `w` in voxels.
    public let window: Int
    /// FFT box edge `P` in voxels.
    public let padded: Int
    /// Index of the scaled voxel inside the cube.
    public let centre: Int
    public let rule: ScalingRule
    /// Where the cube sits in the padded box: at `[0, w)` along z and y (so that the pruned FFT
    /// can skip the empty planes and rows), and circularly shifted along x so that the centre
    /// voxel is at x = 0. |F| and hence the shells do not depend on the placement.
    public var centreInPaddedBox: XYZ<Int> { XYZ(0, centre, centre) }
    /// Read-out phase of each (kz, ky) row, interleaved (cos, sin) of `2π (ky + kz) · centre / P`:
    /// the centre voxel's value is `(1/P³) Σ weight · Re(F(k) · phase)`.
    let rowPhase: [Float]
    /// Number of accumulation bins: shells (exact) or interpolation nodes (locscale2).
    public let binCount: Int

    /// Hermitian weight of column `kx`: 2 for `0 < kx < P/2`, else 1.
    let columnWeight: [Float]
    /// Shell of each half-spectrum coefficient: exact rule `round(|k|)` of wrapped `k` (powers
    /// and read-out); locscale2 rule `floor(|raw index|)` (mean amplitudes; `binCount` = dropped).
    let shell: [UInt16]
    /// locscale2 rule: the lower of the two interpolation nodes of each coefficient, and the
    /// read-out weights (Hermitian weight times interpolation weight) of that node and the next.
    let node: [UInt16]
    let nodeWeightLow: [Float]
    let nodeWeightHigh: [Float]
    /// locscale2 rule: coefficients per profile shell.
    let profileCount: [Double]

    /// Coefficients in the half-spectrum, `P · P · (P/2 + 1)`.
    public var coefficientCount: Int { padded * padded * (padded / 2 + 1) }

    /// Spatial frequency of each bin in cycles per voxel (divide by the voxel size for Å⁻¹):
    /// shell `s` is `|k| = s/P` (exact; `P` the padded box, so pad 2 has twice the shells), node
    /// `n` is `n/w` (locscale2, `P = w`).
    public var binFrequencies: [Double] { (0..<binCount).map { Double($0) / Double(padded) } }

    /// What the kernel sums per bin (`ShellSpectrumObserver`): powers `Σ weight·|F|²` (exact) or
    /// amplitudes `Σ |F|` (locscale2).
    public var binSumsArePowers: Bool { rule != .locscale2 }

    /// Coefficients each bin's sums are taken over: per shell of the whole spectrum (Hermitian
    /// weights counted) for the exact rule, per profile shell of the half-spectrum for
    /// locscale2. A bin's mean power (amplitude) is its sum divided by this.
    public var coefficientsPerBin: [Double] {
        if rule == .locscale2 { return Array(profileCount[0..<binCount]) }
        var count = [Double](repeating: 0, count: binCount)
        let half = padded / 2 + 1
        for (j, s) in shell.enumerated() { count[Int(s)] += Double(columnWeight[j % half]) }
        return count
    }

    public init(window w: Int, rule: ScalingRule) {
        window = w
        self.rule = rule
        centre = centreIndex(window: w)
        switch rule {
        case .exact(let padFactor): padded = paddedSize(window: w, padFactor: padFactor)
        case .locscale2: padded = w
        }
        let p = padded
        var rowPhase = [Float](repeating: 0, count: 2 * p * p)
        for kz in 0..<p {
            for ky in 0..<p {
                let angle = 2 * Double.pi * Double((ky + kz) * centre % p) / Double(p)
                rowPhase[2 * (kz * p + ky)] = Float(cos(angle))
                rowPhase[2 * (kz * p + ky) + 1] = Float(sin(angle))
            }
        }
        self.rowPhase = rowPhase
        let half = p / 2 + 1
        let count = p * p * half

        columnWeight = (0..<half).map { kx in (kx == 0 || (p % 2 == 0 && kx == p / 2)) ? 1 : 2 }
        var weight = [Float](repeating: 2, count: count)
        var wrappedRadius = [Double](repeating: 0, count: count)
        var rawRadius = [Double](repeating: 0, count: count)
        for kz in 0..<p {
            for ky in 0..<p {
                for kx in 0..<half {
                    let j = (kz * p + ky) * half + kx
                    weight[j] = columnWeight[kx]
                    let wz = Double(kz <= p / 2 ? kz : kz - p), wy = Double(ky <= p / 2 ? ky : ky - p)
                    let wx = Double(kx)
                    wrappedRadius[j] = (wz * wz + wy * wy + wx * wx).squareRoot()
                    rawRadius[j] = Double(kz * kz + ky * ky + kx * kx).squareRoot()
                }
            }
        }

        switch rule {
        case .exact:
            let shells = Int((3.0.squareRoot() * Double(p) / 2).rounded()) + 1
            binCount = shells
            shell = wrappedRadius.map { UInt16($0.rounded()) }
            node = []; nodeWeightLow = []; nodeWeightHigh = []; profileCount = []
        case .locscale2:
            // Profile nodes s = 0 … w/2 at frequency s/w; np.interp on the wrapped magnitude.
            let nodes = p / 2 + 1
            binCount = nodes
            var profileShell = [Int32](repeating: 0, count: count)
            var profileCount = [Double](repeating: 0, count: nodes + 1)
            var node = [Int32](repeating: 0, count: count)
            var low = [Float](repeating: 0, count: count)
            var high = [Float](repeating: 0, count: count)
            for j in 0..<count {
                let s = min(Int(rawRadius[j].rounded(.down)), nodes)
                profileShell[j] = Int32(s)
                profileCount[s] += 1
                let t = wrappedRadius[j]
                let upper = min(max(Int(t.rounded(.up)), 1), nodes - 1)
                let fraction = min(max(t - Double(upper - 1), 0), 1)
                node[j] = Int32(upper - 1)
                low[j] = weight[j] * Float(1 - fraction)
                high[j] = weight[j] * Float(fraction)
            }
            shell = profileShell.map { UInt16($0) }
            self.node = node.map { UInt16($0) }
            nodeWeightLow = low
            nodeWeightHigh = high
            self.profileCount = profileCount
        }
    }
}
