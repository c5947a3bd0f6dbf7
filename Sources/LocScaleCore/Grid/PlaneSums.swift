/// The partial sums behind a map's header statistics (DMIN, DMAX, DMEAN, RMS), one per z-plane, so
/// that the statistics do not depend on how the planes are split between ranks: every rank sums
/// its own planes (each plane in the same fixed order wherever it lies), and the plane sums are
/// added in plane order. `MRCFile.write` (one process, the whole map) and `DistributedMRCWriter`
/// (any number of ranks, one slab each) both go through here, so their headers are identical.
public enum PlaneSums {
    /// Lanes of the running sums within a plane (summed pairwise at the plane's end).
    static let lanes = 8
    typealias Lanes = SIMD8<Double>

    /// The sum of each plane of `values` (whole planes of `planeSize` floats, in order), and
    /// the smallest and largest value (+inf and -inf when there are none).
    public static func sums(_ values: UnsafeBufferPointer<Float>,
                            planeSize: Int) -> (sums: [Double], minimum: Float, maximum: Float) {
        precondition(planeSize > 0 && values.count % planeSize == 0, "values are not whole planes")
        var sums = [Double](), lo = Float.infinity, hi = -Float.infinity
        sums.reserveCapacity(values.count / planeSize)
        for p in 0 ..< values.count / planeSize {
            let plane = planeSum(UnsafeBufferPointer(rebasing: values[p * planeSize ..< (p + 1) * planeSize]))
            sums.append(plane.sum)
            lo = min(lo, plane.minimum)
            hi = max(hi, plane.maximum)
        }
        return (sums, lo, hi)
    }

    /// The sum, smallest and largest value of one plane.
    private static func planeSum(_ plane: UnsafeBufferPointer<Float>) -> (sum: Double, minimum: Float, maximum: Float) {
        var sum = Lanes(repeating: 0)
        var lo = SIMD8<Float>(repeating: .infinity), hi = SIMD8<Float>(repeating: -.infinity)
        let blocks = plane.count / lanes
        let raw = UnsafeRawPointer(plane.baseAddress!)
        for b in 0..<blocks {
            let v = raw.loadUnaligned(fromByteOffset: 4 * lanes * b, as: SIMD8<Float>.self)
            // (`replace(with:where:)` vectorises here; `pointwiseMin` and `pointwiseMax` were calls.)
            lo.replace(with: v, where: v .< lo)
            hi.replace(with: v, where: v .> hi)
            sum += Lanes(v)
        }
        var (total, minimum, maximum) = (reduce(sum), lo.min(), hi.max())
        for v in plane[(blocks * lanes)...] {
            minimum = min(minimum, v)
            maximum = max(maximum, v)
            total += Double(v)
        }
        return (total, minimum, maximum)
    }

    /// The sum of squared deviations from `mean` of each plane of `values`.
    public static func squaredDeviations(_ values: UnsafeBufferPointer<Float>, planeSize: Int,
                                         mean: Double) -> [Double] {
        precondition(planeSize > 0 && values.count % planeSize == 0, "values are not whole planes")
        let m = Lanes(repeating: mean)
        return (0 ..< values.count / planeSize).map { p in
            let plane = UnsafeBufferPointer(rebasing: values[p * planeSize ..< (p + 1) * planeSize])
            var sum = Lanes(repeating: 0)
            let blocks = plane.count / lanes
            let raw = UnsafeRawPointer(plane.baseAddress!)
            for b in 0..<blocks {
                let d = Lanes(raw.loadUnaligned(fromByteOffset: 4 * lanes * b, as: SIMD8<Float>.self)) - m
                sum += d * d
            }
            var total = reduce(sum)
            for v in plane[(blocks * lanes)...] {
                let d = Double(v) - mean
                total += d * d
            }
            return total
        }
    }

    /// The lanes added pairwise, in a fixed order.
    private static func reduce(_ s: Lanes) -> Double {
        ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))
    }
}

extension MapStatistics {
    /// The header statistics of a map from its plane sums (`PlaneSums`, all planes of the map, in
    /// order): the mean is the plane sums added in plane order over `voxelCount`; the RMS likewise
    /// from the squared deviations from that mean.
    public init(minimum: Float, maximum: Float, planeSums: [Double], squaredDeviations: [Double], voxelCount: Int) {
        self.init(minimum: minimum, maximum: maximum, mean: planeSums.reduce(0, +) / Double(voxelCount),
                  rms: (squaredDeviations.reduce(0, +) / Double(voxelCount)).squareRoot())
    }

    /// The header statistics of `values`, whole planes of `planeSize` floats (as
    /// `DistributedMRCWriter` computes them from slabs); all zero for no values.
    public init(planes values: [Float], planeSize: Int) {
        guard !values.isEmpty else {
            self.init(minimum: 0, maximum: 0, mean: 0, rms: 0)
            return
        }
        let (sums, lo, hi) = values.withUnsafeBufferPointer { PlaneSums.sums($0, planeSize: planeSize) }
        let mean = sums.reduce(0, +) / Double(values.count)
        let squares = values.withUnsafeBufferPointer {
            PlaneSums.squaredDeviations($0, planeSize: planeSize, mean: mean)
        }
        self.init(minimum: lo, maximum: hi, planeSums: sums, squaredDeviations: squares, voxelCount: values.count)
    }
}
