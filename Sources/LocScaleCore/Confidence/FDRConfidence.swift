import Foundation

/// The voxels LocScale 2 tests: a ball of radius `max(NX, NY, NZ) / 2` (integer division)
/// about the box centre, with each axis's coordinates as Beckers' `makeCircularMask` makes them
/// (`numpy.linspace(-⌊n/2⌋, n - ⌊n/2⌋, n)`: a spacing of n/(n−1), not 1), a voxel inside when
/// its distance is at most the radius and not 0. Outside it the confidence is 0.
public struct ConfidenceBall: Sendable {
    /// Squared coordinates along z, y and x.
    let z2: [Double], y2: [Double], x2: [Double]
    let radius: Double

    public init(shape: XYZ<Int>) {
        func squares(_ n: Int) -> [Double] {
            let start = -Double(n / 2), stop = start + Double(n)
            guard n > 1 else { return [start * start] }
            let step = (stop - start) / Double(n - 1)
            return (0..<n).map { i in
                let c = i == n - 1 ? stop : Double(i) * step + start
                return c * c
            }
        }
        z2 = squares(shape.z)
        y2 = squares(shape.y)
        x2 = squares(shape.x)
        radius = Double(max(shape.x, shape.y, shape.z) / 2)
    }

    /// Whether voxel (x, y, z) is tested (numpy's `sqrt(z² + y² + x²)`, summed in that order).
    @inline(__always)
    public func contains(x: Int, y: Int, z: Int) -> Bool {
        let d = ((z2[z] + y2[y]) + x2[x]).squareRoot()
        return d <= radius && d > 0
    }
}

/// LocScale 2.4.1's FDR confidence map (Beckers, Jakobi & Sachse, IUCrJ 2019), as its
/// `run_FDR` computes it by default (`calculateConfidenceMap` with no filter, no local
/// resolution, no ECDF): per tested voxel the right-sided Gaussian p-value of
/// `t = (v − mean) / sd` of the noise (`p = 1` for `t < 0`), the Benjamini–Yekutieli adjustment
/// of all tested voxels' p-values (`q`), and confidence `1 − q`.
public enum FDRConfidence {
    /// LocScale 2's H(n) for Benjamini–Yekutieli: its series
    /// `ln n + 0.5772 + 1/(2n) − 1/(12n²) + 1/(120n⁴)` (with Euler's constant cut to 0.5772).
    public static func harmonic(_ n: Int) -> Double {
        let n = Double(n)
        return log(n) + 0.5772 + 0.5 / n - 1.0 / (12 * n * n) + 1.0 / (120 * n * n * n * n)
    }

    /// The right-sided p-value of `value` given the noise's `mean` and `1/sd`.
    @inline(__always)
    public static func pValue(_ value: Float, mean: Double, inverseSD: Double) -> Double {
        pValue(t: (Double(value) - mean) * inverseSD)
    }

    /// The right-sided p-value of the statistic `t`: `1 − ½(1 + erf(t/√2))` as LocScale 2 writes
    /// it, 1 for `t < 0`.
    @inline(__always)
    public static func pValue(t: Double) -> Double {
        t < 0 ? 1 : 1 - 0.5 * (1 + erf(t / 2.0.squareRoot()))
    }

    /// A statistic `t` below which every p-value is far above `bound` (the `t` where p crosses
    /// it, less 0.5), so that a voxel below it is not a candidate without computing erf.
    public static func candidateFloor(bound: Double) -> Double {
        guard bound <= 0.5 else { return -.infinity }
        var low = 0.0, high = 40.0
        for _ in 0..<60 {
            let middle = 0.5 * (low + high)
            if pValue(t: middle) < bound { high = middle } else { low = middle }
        }
        return low - 0.5
    }

    /// p-values at or above this bound, among `count` tested voxels, have `q = 1` exactly:
    /// their own term `p · (n/rank) · H(n)` is at least `2` and so is every larger one, so
    /// the adjustment needs only the p-values below it (the candidates).
    public static func candidateBound(count: Int) -> Double { 2 / harmonic(count) }
}

/// Why a map cannot have an FDR confidence map, one line naming the file.
public enum ConfidenceError: Error, Equatable, CustomStringConvertible {
    /// The noise cubes of `window` voxels do not fit the map.
    case windowTooLarge(path: String, window: Int, shape: XYZ<Int>, largest: Int)
    /// Part of the noise region is exactly 0: the solvent was masked.
    case maskedSolvent(path: String, region: String, zeroPercent: Double)
    /// The noise region is one constant value.
    case flatNoise(path: String, region: String)
    /// The noise region's variance is far above the box corners': the particle reaches it.
    case noisierThanCorners(path: String, region: String, ratio: Double)
    /// Part of the noise region is significant: the particle reaches it.
    case signalInNoise(path: String, region: String, percent: Double)

    /// The most of the noise region that may be exactly 0, as a fraction (float maps have none).
    public static let zeroLimit = 0.05
    /// The most of the noise region that may lie in the mask, as a fraction (pure noise puts
    /// well under 0.1 % of it there at an FDR of 1 %).
    public static let signalLimit = 0.01
    /// The largest ratio of the noise region's variance to the box corners' (pure noise: about 1).
    public static let varianceRatioLimit = 2.0

    public var description: String {
        func percent(_ x: Double) -> String { formatDecimal(x, digits: 1) + " %" }
        switch self {
        case let .windowTooLarge(path, window, shape, largest):
            return "\(path): the noise cubes do not fit the \(shape.x)×\(shape.y)×\(shape.z) map "
                + (largest > 0 ? "(found --window \(window), expected at most \(largest))"
                                : "(found --window \(window); no window fits)")
        case let .maskedSolvent(path, region, zeroPercent):
            return "\(path): the map looks masked to zero outside the particle: \(percent(zeroPercent)) of the "
                + "noise region (\(region)) is exactly 0 (expected under \(percent(100 * Self.zeroLimit))); "
                + "the FDR confidence map needs the unmasked map"
        case let .flatNoise(path, region):
            return "\(path): the noise region (\(region)) holds one constant value (expected noise)"
        case let .noisierThanCorners(path, region, ratio):
            return "\(path): the particle reaches the noise region: its variance (\(region)) is "
                + "\(formatDecimal(ratio, digits: 2)) × that of the box corners (expected under "
                + "\(formatDecimal(Self.varianceRatioLimit))); the confidence map needs noise at the box edges"
        case let .signalInNoise(path, region, signal):
            return "\(path): the particle reaches the noise region: \(percent(signal)) of it (\(region)) "
                + "is above the FDR threshold (expected under \(percent(100 * Self.signalLimit))); "
                + "the confidence map needs noise at the box edges"
        }
    }
}
