/// Cubes of voxels of a map whose values are sampled together (a voxel in two cubes counts
/// twice), with per-plane sums so that z-slabs on any number of ranks give the same statistics.
public struct VoxelCubes: Equatable, Sendable {
    /// One cube's z, y and x ranges (voxels).
    public struct Cube: Equatable, Sendable {
        public let z: Range<Int>
        public let y: Range<Int>
        public let x: Range<Int>
    }

    /// The cubes, in sampling order.
    public let cubes: [Cube]

    /// Voxels in the sample.
    public var voxelCount: Int { cubes.reduce(0) { $0 + $1.z.count * $1.y.count * $1.x.count } }

    /// Calls `body` with the index, within `values`, of every sample voxel of plane `z` (cube by
    /// cube, then y, then x); `values` holds the planes `held` of a map of `shape` in (z, y, x)
    /// order.
    @inline(__always)
    public func forEachSample(inPlane z: Int, held: Range<Int>, shape: XYZ<Int>, _ body: (Int) -> Void) {
        guard held.contains(z) else { return }
        let planeStart = (z - held.lowerBound) * shape.y * shape.x
        for cube in cubes where cube.z.contains(z) {
            for y in cube.y {
                for x in cube.x { body(planeStart + y * shape.x + x) }
            }
        }
    }

    /// Per plane of the map (NZ entries): the sum of the sample's values and the count of its
    /// voxels that are exactly 0, for the planes `held` given in `values`; 0 for other planes.
    /// Added over the ranks (each plane held by one) and then in plane order, these give
    /// `SampleStatistics` bit for bit for any split of the planes.
    /// `counting`: only these of the held planes (nil: all), for a rank whose held planes overlap
    /// its neighbours'.
    public func planeSums(_ values: [Float], held: Range<Int>, shape: XYZ<Int>,
                          counting: Range<Int>? = nil) -> (sums: [Double], zeros: [Double]) {
        var sums = [Double](repeating: 0, count: shape.z), zeros = sums
        for z in held.clamped(to: counting ?? held) {
            forEachSample(inPlane: z, held: held, shape: shape) { i in
                sums[z] += Double(values[i])
                if values[i] == 0 { zeros[z] += 1 }
            }
        }
        return (sums, zeros)
    }

    /// Per plane of the map: the sum of squared deviations from `mean` of the sample's values
    /// held in `values`; 0 for other planes.
    public func planeSquares(_ values: [Float], held: Range<Int>, shape: XYZ<Int>, mean: Double,
                             counting: Range<Int>? = nil) -> [Double] {
        var squares = [Double](repeating: 0, count: shape.z)
        for z in held.clamped(to: counting ?? held) {
            forEachSample(inPlane: z, held: held, shape: shape) { i in
                let d = Double(values[i]) - mean
                squares[z] += d * d
            }
        }
        return squares
    }
}

/// Where the background noise of a map is sampled for its FDR confidence map: LocScale 2's
/// default noise boxes (Beckers' `estimateNoiseFromMap` with no box given, which 2.4.1's
/// `run_FDR` uses). Four cubes of `window` voxels, all on the central z-planes: two at the
/// low and high y edges (2 % in from the edge, centred in x) and two at the low and high x
/// edges (centred in y). The noise statistics are the mean and variance of the four cubes'
/// voxels taken together (a voxel in two cubes counts twice, as in LocScale 2).
///
/// The sample is pure noise only when the particle stays away from the box's y and x edges on
/// the central planes and the solvent is not masked (ARCHITECTURE §1.6). The eight corner cubes
/// of the same window (`corners`), farthest from the centre, are the check.
public struct NoiseRegion: Equatable, Sendable {
    /// Edge of each cube, voxels.
    public let window: Int
    /// The z-planes of the cubes.
    public let planes: Range<Int>
    /// The four cubes, in LocScale 2's order: low y, high y, low x, high x.
    public let cubes: VoxelCubes
    /// The eight cubes of `window` voxels at the box's corners.
    public let corners: VoxelCubes

    /// LocScale 2's default window: 10 % of the map's z edge (NZ, the first axis of its array),
    /// rounded up to even (`prepare_inputs_for_FDR`).
    public static func defaultWindow(shape: XYZ<Int>) -> Int {
        let edge = Int((Double(shape.z) * 0.1).rounded(.up))
        return edge % 2 == 0 ? edge : edge + 1
    }

    /// The region of a map of `shape` for cubes of `window` voxels, or nil when a cube would
    /// leave the map (LocScale 2 fails then).
    public init?(shape s: XYZ<Int>, window w: Int) {
        guard w >= 1 else { return nil }
        // numpy's int() of LocScale 2's float expressions truncates toward zero.
        func centred(_ n: Int) -> Int { Int(0.5 * Double(n) - 0.5 * Double(w)) }
        func low(_ n: Int) -> Int { Int(0.02 * Double(n)) }
        func high(_ n: Int) -> Int { Int(0.98 * Double(n)) - w }
        let starts = [centred(s.z), centred(s.y), centred(s.x), low(s.y), high(s.y), low(s.x), high(s.x)]
        let sizes = [s.z, s.y, s.x, s.y, s.y, s.x, s.x]
        guard zip(starts, sizes).allSatisfy({ $0 >= 0 && $0 + w <= $1 }) else { return nil }
        let r = starts.map { $0 ..< $0 + w }
        window = w
        planes = r[0]
        cubes = VoxelCubes(cubes: [.init(z: r[0], y: r[3], x: r[2]), .init(z: r[0], y: r[4], x: r[2]),
                                   .init(z: r[0], y: r[1], x: r[5]), .init(z: r[0], y: r[1], x: r[6])])
        func ends(_ n: Int) -> [Range<Int>] { [0 ..< w, n - w ..< n] }
        corners = VoxelCubes(cubes: ends(s.z).flatMap { z in
            ends(s.y).flatMap { y in ends(s.x).map { x in VoxelCubes.Cube(z: z, y: y, x: x) } }
        })
    }

    /// The largest window whose cubes fit a map of `shape` (0 when none does).
    public static func largestWindow(shape: XYZ<Int>) -> Int {
        (1...max(1, min(shape.x, shape.y, shape.z))).last { NoiseRegion(shape: shape, window: $0) != nil } ?? 0
    }

    /// Voxels in the sample (4 · window³).
    public var voxelCount: Int { cubes.voxelCount }

    /// One line for messages: "4 cubes of 10³ voxels at the y and x edges of z planes 45–54".
    public var summary: String {
        "4 cubes of \(window)³ voxels at the y and x edges of z planes \(planes.lowerBound)–\(planes.upperBound - 1)"
    }
}

/// Mean, variance (population, float64) and fraction of exact zeros of a sample of voxels.
public struct SampleStatistics: Equatable, Sendable, Codable {
    public let mean: Double
    public let variance: Double
    /// Fraction of the sample's voxels that are exactly 0.
    public let zeroFraction: Double

    /// From the per-plane sums of every plane of the map (`VoxelCubes.planeSums`,
    /// `planeSquares`), added in plane order.
    public init(sums: [Double], zeros: [Double], squares: [Double], count: Int) {
        mean = Self.mean(sums: sums, count: count)
        variance = squares.reduce(0, +) / Double(count)
        zeroFraction = zeros.reduce(0, +) / Double(count)
    }

    /// The sample's mean from its per-plane sums.
    public static func mean(sums: [Double], count: Int) -> Double { sums.reduce(0, +) / Double(count) }
}
