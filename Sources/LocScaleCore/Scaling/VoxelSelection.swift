/// What one process finds in some z-planes of the mask: the voxels to scale per plane, with and
/// without LocScale 2's edge crop, whether any of them reaches the box edge, and their bounding
/// box. Tallies of disjoint planes add up (`merged`) to the tally of their union, so processes
/// can tally their own planes and combine the results.
public struct PlaneTally: Equatable, Sendable {
    /// Voxels with mask ≥ 0.5 (every voxel without a mask) in each z-plane of the whole box
    /// (0 in planes not tallied).
    public var counts: [Int]
    /// The same without the voxels on LocScale 2's crop planes (`LocalScaling.voxelsToScale`).
    public var croppedCounts: [Int]
    /// Whether a voxel counted lies within half a window of the box edge (LocScale 2 then crops
    /// nothing).
    public var bleeds: Bool
    /// Bounding box of the voxels counted (box indices, inclusive); `shape` and −1 when none.
    public var lower: XYZ<Int>, upper: XYZ<Int>

    public init(counts: [Int], croppedCounts: [Int], bleeds: Bool, lower: XYZ<Int>, upper: XYZ<Int>) {
        self.counts = counts
        self.croppedCounts = croppedCounts
        self.bleeds = bleeds
        self.lower = lower
        self.upper = upper
    }

    /// Tallies planes `planes` of a box of `shape` for window `window`; `mask` holds those
    /// planes' values ((z, y, x), x fastest), nil when every voxel is scaled.
    public init(mask: [Float]?, planes: Range<Int>, shape: XYZ<Int>, window: Int) {
        precondition(mask.map { $0.count == planes.count * shape.x * shape.y } ?? true)
        let half = window / 2
        let crop = XYZ(shape.x - half, shape.y - half, shape.z - half)
        counts = [Int](repeating: 0, count: shape.z)
        croppedCounts = counts
        bleeds = false
        lower = shape
        upper = XYZ(-1, -1, -1)
        var k = 0
        for z in planes {
            var count = 0, cropped = 0
            let zEdge = z < half || z > crop.z
            for y in 0..<shape.y {
                let yEdge = zEdge || y < half || y > crop.y
                let yCrop = z == crop.z || y == crop.y
                var first = -1, last = -1
                for x in 0..<shape.x {
                    defer { k += 1 }
                    if let mask, !(mask[k] >= 0.5) { continue }
                    count += 1
                    if !(yCrop || x == crop.x) { cropped += 1 }
                    if yEdge || x < half || x > crop.x { bleeds = true }
                    if first < 0 { first = x }
                    last = x
                }
                if first >= 0 {
                    lower = XYZ(min(lower.x, first), min(lower.y, y), min(lower.z, z))
                    upper = XYZ(max(upper.x, last), max(upper.y, y), max(upper.z, z))
                }
            }
            counts[z] = count
            croppedCounts[z] = cropped
        }
    }

    /// The tally of the union of the planes of two tallies of disjoint planes.
    public func merged(with other: PlaneTally) -> PlaneTally {
        PlaneTally(counts: zip(counts, other.counts).map(+),
                   croppedCounts: zip(croppedCounts, other.croppedCounts).map(+),
                   bleeds: bleeds || other.bleeds,
                   lower: XYZ(min(lower.x, other.lower.x), min(lower.y, other.lower.y), min(lower.z, other.lower.z)),
                   upper: XYZ(max(upper.x, other.upper.x), max(upper.y, other.upper.y), max(upper.z, other.upper.z)))
    }
}

/// The voxels a run scales, as `LocalScaling.voxelsToScale` lists them, found from the tally of
/// the whole mask and listed plane by plane from the mask's planes, so no process needs the
/// whole mask.
public struct VoxelSelection: Equatable, Sendable {
    public let shape: XYZ<Int>
    /// Voxels to scale in each z-plane.
    public let planeCounts: [Int]
    /// The planes of x, y and z that LocScale 2 leaves out (`shape − window/2`), when it does.
    public let cropped: XYZ<Int>?
    /// Bounding box of the mask's voxels (box indices, inclusive).
    public let lower: XYZ<Int>, upper: XYZ<Int>

    /// The selection of the whole box's `tally` under `rule` with window `window`.
    public init(tally: PlaneTally, shape: XYZ<Int>, rule: ScalingRule, window: Int) {
        self.shape = shape
        let crops = rule == .locscale2 && !tally.bleeds
        planeCounts = crops ? tally.croppedCounts : tally.counts
        cropped = crops ? XYZ(shape.x - window / 2, shape.y - window / 2, shape.z - window / 2) : nil
        lower = tally.lower
        upper = tally.upper
    }

    /// Voxels selected in all planes.
    public var count: Int { planeCounts.reduce(0, +) }

    /// The voxels to scale in planes `planes` (linear (z, y, x) indices in the box, ascending);
    /// `mask` holds those planes' values, nil when every voxel is scaled.
    public func voxels(in planes: Range<Int>, mask: [Float]?) -> [Int] {
        var voxels: [Int] = []
        voxels.reserveCapacity(planeCounts[planes].reduce(0, +))
        let plane = shape.x * shape.y
        for i in planes.lowerBound * plane ..< planes.upperBound * plane {
            if let mask, !(mask[i - planes.lowerBound * plane] >= 0.5) { continue }
            if let c = cropped, i % shape.x == c.x || (i / shape.x) % shape.y == c.y || i / plane == c.z { continue }
            voxels.append(i)
        }
        return voxels
    }
}
