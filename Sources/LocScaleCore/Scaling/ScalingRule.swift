/// Which numerical rules the per-voxel scaling follows. Encoded as `{"exact":{"padFactor":2}}`
/// or `{"locscale2":{}}`.
public enum ScalingRule: Equatable, Codable, Sendable {
    /// ARCHITECTURE §1.2: the cube zero-padded to a smooth size ≥ `padFactor · w`, shells
    /// `round(|k|)` over all octants, gain `sqrt(PM/PE)`.
    case exact(padFactor: Double)
    /// LocScale 2.4.1 (docs/COMPAT-LOCSCALE2.md): no padding, floor shells of raw rfft indices,
    /// mean amplitudes, gains interpolated on the frequency magnitude.
    case locscale2
}

/// The padded FFT size for a window: the smallest 2,3,5,7-smooth integer ≥ `ceil(padFactor · w)`.
public func paddedSize(window w: Int, padFactor: Double) -> Int {
    var n = Int((padFactor * Double(w) - 1e-9).rounded(.up))
    n = max(n, w)
    while !isSmooth(n) { n += 1 }
    return n
}

/// True when `n` has no prime factor above 7.
func isSmooth(_ n: Int) -> Bool {
    var m = n
    for p in [2, 3, 5, 7] { while m % p == 0 { m /= p } }
    return m == 1
}

/// Cube index of the centre voxel: `w/2` for even `w`, `(w−1)/2` for odd.
@inline(__always)
public func centreIndex(window w: Int) -> Int { w / 2 }

/// LocScale's default window in voxels: `ceil(25 Å / voxel size)`, plus one when odd.
public func defaultWindow(meanVoxelSize: Double) -> Int {
    roundUpToEven(25.0 / meanVoxelSize)
}

/// `ceil(x)`, plus one when that is odd (LocScale 2's `round_up_to_even`).
public func roundUpToEven(_ x: Double) -> Int {
    let n = Int(x.rounded(.up))
    return n % 2 == 0 ? n : n + 1
}
