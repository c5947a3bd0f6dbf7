/// Grows a binary mask by a ball: a voxel is in the grown mask when some voxel of the mask lies
/// within `radius` voxels of it (Euclidean distance between voxel centres, counted in voxels
/// along each axis). Used by `scale`'s automatic mask (ARCHITECTURE §1.6).
///
/// Works on z-slabs with exact integer arithmetic: given the mask's planes `held`, which include
/// every plane within `reach` of the planes wanted, the wanted planes are the same bit for bit as
/// from the whole mask, for any split. Squared distances are found axis by axis (x, then y, then
/// z: the squared distance to the nearest mask voxel is the minimum over the z offset of
/// `dz² + ` the squared distance within that plane, and likewise for y), each capped at
/// `radius² + 1` ("farther than the radius"), which keeps every comparison with `radius²` exact
/// and the values in 16 bits.
public struct BallDilation: Sendable {
    /// Radius, voxels.
    public let radius: Double
    /// Planes on each side of the wanted planes that the grown mask depends on (`⌊radius⌋`).
    public let reach: Int
    /// `⌊radius²⌋`: a voxel is in the grown mask when its squared distance is at most this.
    let radiusSquared: Int

    /// The largest radius (voxels) whose capped squared distances fit in 16 bits.
    public static let largestRadius = 150.0

    public init(radius: Double) {
        precondition(radius >= 0 && radius <= Self.largestRadius, "dilation radius out of range")
        self.radius = radius
        radiusSquared = Int((radius * radius).rounded(.down))
        reach = Int(Double(radiusSquared).squareRoot().rounded(.down))
    }

    /// The grown mask's planes `planes` (1 inside, 0 outside; (z, y, x) order, x fastest) of a map
    /// of `shape`, from the mask `mask` (voxels ≥ 0.5 are in it) given on the planes `held`.
    /// - Precondition: `held` contains every plane of the box within `reach` of `planes`.
    public func grow(_ mask: [Float], held: Range<Int>, shape: XYZ<Int>, planes: Range<Int>) -> [Float] {
        let plane = shape.x * shape.y
        precondition(mask.count == held.count * plane, "mask does not fill the held planes")
        precondition(planes.isEmpty || held.lowerBound <= max(0, planes.lowerBound - reach)
                     && held.upperBound >= min(shape.z, planes.upperBound + reach), "held planes too few")
        let far = UInt16(radiusSquared + 1)
        // Per held plane: squared distance to the nearest mask voxel of the plane, capped at `far`.
        var inPlane = [UInt16](repeating: far, count: mask.count)
        var alongX = [UInt16](repeating: far, count: plane)
        for k in 0..<held.count {
            for y in 0..<shape.y {
                distancesAlongX(mask, row: (k * shape.y + y) * shape.x, count: shape.x, into: &alongX, at: y * shape.x)
            }
            inPlane.withUnsafeMutableBufferPointer { out in
                alongX.withUnsafeBufferPointer { source in
                    for y in 0..<shape.y {
                        let start = (k * shape.y + y) * shape.x
                        let target = UnsafeMutableBufferPointer(rebasing: out[start ..< start + shape.x])
                        for dy in max(-reach, -y)...min(reach, shape.y - 1 - y) {
                            let row = (y + dy) * shape.x
                            Self.lower(target, by: UnsafeBufferPointer(rebasing: source[row ..< row + shape.x]),
                                       plus: UInt16(dy * dy), cap: far)
                        }
                    }
                }
            }
        }
        // Per wanted plane: the minimum over the held planes within reach.
        var grown = [Float](repeating: 0, count: planes.count * plane)
        var best = [UInt16](repeating: far, count: plane)
        inPlane.withUnsafeBufferPointer { source in
            best.withUnsafeMutableBufferPointer { target in
                for (k, z) in planes.enumerated() {
                    for i in 0..<plane { target[i] = far }
                    for dz in max(-reach, -z)...min(reach, shape.z - 1 - z) {
                        let h = z + dz - held.lowerBound
                        Self.lower(target, by: UnsafeBufferPointer(rebasing: source[h * plane ..< (h + 1) * plane]),
                                   plus: UInt16(dz * dz), cap: far)
                    }
                    let limit = UInt16(radiusSquared)
                    for i in 0..<plane where target[i] <= limit { grown[k * plane + i] = 1 }
                }
            }
        }
        return grown
    }

    /// The squared distance along the row `mask[row ..< row + count]` from each voxel to the
    /// nearest voxel ≥ 0.5 of the row, capped at `radius² + 1`, into `out[at ..< at + count]`.
    private func distancesAlongX(_ mask: [Float], row: Int, count: Int, into out: inout [UInt16], at: Int) {
        let far = radiusSquared + 1
        var last = -far - 1
        for x in 0..<count {
            if mask[row + x] >= 0.5 { last = x }
            out[at + x] = UInt16(min(far, (x - last) * (x - last)))
        }
        last = count + far + 1
        for x in stride(from: count - 1, through: 0, by: -1) {
            if mask[row + x] >= 0.5 { last = x }
            out[at + x] = min(out[at + x], UInt16(min(far, (last - x) * (last - x))))
        }
    }

    /// `target[i] = min(target[i], min(source[i] + offset, cap))` for every i.
    @inline(__always)
    private static func lower(_ target: UnsafeMutableBufferPointer<UInt16>, by source: UnsafeBufferPointer<UInt16>,
                              plus offset: UInt16, cap: UInt16) {
        for i in 0..<target.count { target[i] = min(target[i], min(source[i] &+ offset, cap)) }
    }
}
