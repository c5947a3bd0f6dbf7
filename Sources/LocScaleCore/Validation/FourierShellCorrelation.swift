import Foundation

/// A Fourier shell correlation curve between two maps on the same grid.
///
/// Shells are spherical in Å⁻¹ even on non-cubic boxes and anisotropic voxels: a coefficient of
/// frequency `s = (kx/(nx·hx), ky/(ny·hy), kz/(nz·hz))` belongs to shell `round(|s| / Δ)` with
/// `Δ = 1 / (largest box edge in Å)`; shells run from 0 to the Nyquist frequency of the coarsest
/// axis. Sums run over the whole spectrum (the half-spectrum with Hermitian weights).
public struct FSCCurve: Sendable {
    /// Shell width Δ in Å⁻¹.
    public let shellWidth: Double
    /// `FSC[s] = Re Σ A·conj(B) / sqrt(Σ|A|² Σ|B|²)` per shell (0 where a map has no power).
    public let correlation: [Double]
    /// Fourier coefficients per shell (whole spectrum).
    public let counts: [Int]

    /// Frequency of shell `s` in Å⁻¹ (`s·Δ`).
    public var frequencies: [Double] { correlation.indices.map { Double($0) * shellWidth } }

    /// The resolution in Å where the curve first falls below `threshold` (0.143, 0.5): linear
    /// interpolation in frequency between the last shell above and the first below; the last
    /// shell's resolution when it never falls below.
    public func resolution(at threshold: Double) -> Double {
        for s in 1..<correlation.count where correlation[s] < threshold {
            let previous = correlation[s - 1], current = correlation[s]
            let fraction = previous == current ? 0 : (previous - threshold) / (previous - current)
            return 1 / (shellWidth * (Double(s - 1) + fraction))
        }
        return 1 / (shellWidth * Double(correlation.count - 1))
    }
}

/// Comparisons of two maps on the same grid: FSC and real-space correlation.
public enum MapComparison {
    /// The FSC of `a` and `b`, each multiplied by `mask` first when one is given (soft values
    /// as they are).
    public static func fsc(_ a: Volume, _ b: Volume, mask: Volume? = nil) -> FSCCurve {
        shellSums(a, b, mask: mask).fsc
    }

    /// Per-shell sums over the whole spectrum of `a·mask` and `b·mask`; shells as in `FSCCurve`.
    public static func shellSums(_ a: Volume, _ b: Volume, mask: Volume?) -> ShellSums {
        precondition(a.grid.shape == b.grid.shape)
        let n = a.grid.shape
        let plan = RealToComplexPlan3D(nz: n.z, ny: n.y, nx: n.x, planning: .estimate)
        func spectrum(_ map: Volume) -> AlignedBuffer<Float> {
            let input = AlignedBuffer<Float>(count: n.x * n.y * n.z)
            for i in 0..<input.count { input.pointer[i] = map.values[i] * (mask?.values[i] ?? 1) }
            let output = AlignedBuffer<Float>(count: 2 * plan.complexCount)
            plan.execute(input, output)
            return output
        }
        let fa = spectrum(a), fb = spectrum(b)
        var sums = ShellSums(grid: a.grid)
        let planeFloats = 2 * n.y * (n.x / 2 + 1)
        for kz in 0..<n.z { sums.add(plane: kz, a: fa.pointer + kz * planeFloats, b: fb.pointer + kz * planeFloats) }
        return sums
    }

    /// Pearson correlation of `a` and `b` over the voxels where `mask` ≥ 0.5 (the whole map
    /// without a mask), in double precision.
    public static func realSpaceCorrelation(_ a: Volume, _ b: Volume, mask: Volume? = nil) -> Double {
        let selection = mask.map { CorrelationVoxels.flagged($0.values.map { $0 >= 0.5 }) } ?? .all
        return SlabCorrelation(selections: [selection]).correlations(a.values, b.values, fold: SlabCorrelation.wholeMap)
            .values[0]
    }

    /// Pearson correlation of `a[i]` and `b[i]` over `indices` (ascending), in double precision.
    public static func correlation(_ a: [Float], _ b: [Float], over indices: [Int]) -> Double {
        SlabCorrelation(selections: [.indices(indices)]).correlations(a, b, fold: SlabCorrelation.wholeMap).values[0]
    }
}

/// The radial amplitude profile of a map: mean |F| per Fourier shell (the FSC's shells), and a
/// Guinier B factor from the slope of ln|F| against s² (|F| ∝ exp(−B s²/4)).
public struct RadialProfile: Sendable {
    /// Shell width Δ in Å⁻¹; shell `s` is at frequency `s·Δ`.
    public let shellWidth: Double
    /// Mean amplitude per shell.
    public let amplitude: [Double]

    public init(_ map: Volume, mask: Volume? = nil) {
        self.init(sums: MapComparison.shellSums(map, map, mask: mask))
    }

    /// The profile of spectrum A of `sums`.
    public init(sums: ShellSums) {
        shellWidth = sums.width
        amplitude = sums.amplitude.indices.map { sums.counts[$0] > 0 ? sums.amplitude[$0] / sums.counts[$0] : 0 }
    }

    /// B in Å² from a least-squares line through (s², ln amplitude) over the shells with
    /// resolution between `lowResolution` and `highResolution` Å (e.g. 10 Å to the map's).
    public func guinierB(from lowResolution: Double, to highResolution: Double) -> Double? {
        var points: [(Double, Double)] = []
        for s in 1..<amplitude.count where amplitude[s] > 0 {
            let d = 1 / (Double(s) * shellWidth)
            if d <= lowResolution && d >= highResolution { points.append((1 / (d * d), log(amplitude[s]))) }
        }
        guard points.count >= 2 else { return nil }
        let n = Double(points.count)
        let mx = points.map(\.0).reduce(0, +) / n, my = points.map(\.1).reduce(0, +) / n
        let sxy = points.reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
        let sxx = points.reduce(0) { $0 + ($1.0 - mx) * ($1.0 - mx) }
        return sxx > 0 ? -4 * sxy / sxx : nil
    }
}

/// Sums per Fourier shell of two spectra A and B — Re A·conj B, |A|², |B|², |A| and the number
/// of coefficients — accumulated plane by plane of the r2c half-spectrum (Hermitian weights), so
/// that ranks holding different planes can add their sums (`values`, `init(grid:values:)`).
public struct ShellSums: Sendable {
    /// Shell width Δ in Å⁻¹: 1 / the largest box edge.
    public let width: Double
    public private(set) var cross: [Double]
    public private(set) var powerA: [Double]
    public private(set) var powerB: [Double]
    public private(set) var amplitude: [Double]
    public private(set) var counts: [Double]
    private let shape: XYZ<Int>
    private let edges: [Double]

    public init(grid: Grid) {
        shape = grid.shape
        let h = grid.voxelSize
        edges = [Double(shape.x) * h.x, Double(shape.y) * h.y, Double(shape.z) * h.z]
        width = 1 / edges.max()!
        let shells = Int((1 / (2 * h.array.max()!)) / width + 1e-9) + 1
        cross = [Double](repeating: 0, count: shells)
        (powerA, powerB, amplitude, counts) = (cross, cross, cross, cross)
    }

    /// Sums from their concatenation `values` (cross, |A|², |B|², |A|, counts), e.g. after an
    /// MPI sum over ranks.
    public init(grid: Grid, values: [Double]) {
        self.init(grid: grid)
        let n = cross.count
        cross = Array(values[0..<n]); powerA = Array(values[n..<2 * n]); powerB = Array(values[2 * n..<3 * n])
        amplitude = Array(values[3 * n..<4 * n]); counts = Array(values[4 * n..<5 * n])
    }

    /// All sums in one array (see `init(grid:values:)`).
    public var values: [Double] { cross + powerA + powerB + amplitude + counts }

    /// Adds plane `kz` of both half-spectra (`ny × (nx/2+1)` interleaved complex values each).
    public mutating func add(plane kz: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>) {
        let n = shape, half = n.x / 2 + 1, last = cross.count - 1
        func signed(_ k: Int, _ size: Int) -> Double { Double(k <= size / 2 ? k : k - size) }
        let sz = signed(kz, n.z) / edges[2]
        for ky in 0..<n.y {
            let sy = signed(ky, n.y) / edges[1]
            for kx in 0..<half {
                let sx = Double(kx) / edges[0]
                let shell = Int(((sx * sx + sy * sy + sz * sz).squareRoot() / width).rounded(.toNearestOrEven))
                guard shell <= last else { continue }
                let weight = (kx == 0 || (n.x % 2 == 0 && kx == n.x / 2)) ? 1.0 : 2.0
                let j = 2 * (ky * half + kx)
                let (ar, ai) = (Double(a[j]), Double(a[j + 1]))
                let (br, bi) = (Double(b[j]), Double(b[j + 1]))
                cross[shell] += weight * (ar * br + ai * bi)
                powerA[shell] += weight * (ar * ar + ai * ai)
                powerB[shell] += weight * (br * br + bi * bi)
                amplitude[shell] += weight * (ar * ar + ai * ai).squareRoot()
                counts[shell] += weight
            }
        }
    }

    /// The FSC curve of these sums.
    public var fsc: FSCCurve {
        let correlation = cross.indices.map { s in
            powerA[s] > 0 && powerB[s] > 0 ? cross[s] / (powerA[s] * powerB[s]).squareRoot() : 0
        }
        return FSCCurve(shellWidth: width, correlation: correlation, counts: counts.map { Int($0) })
    }
}
