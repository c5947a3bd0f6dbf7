import LocScaleCore

/// A split of the z-planes of a map into contiguous slabs, one per rank, with about the same
/// number of masked voxels (the work) in each — not the same number of planes: a spherical mask
/// puts most of the work in the middle planes. A pure function of the per-plane counts, so every
/// rank computes the same partition.
public struct SlabPartition: Equatable, Sendable {
    /// `ranges[s]` = the planes (z) of slab `s`, in plane order: rank `s` owns it unless a plan
    /// hands the slabs out otherwise (exact mode: `ExactSlabPlan`). Empty for a slab without work,
    /// whose rank still takes part in every collective.
    public let ranges: [Range<Int>]
    /// Masked voxels in each slab.
    public let work: [Int]

    /// Splits planes `0 ..< planeCounts.count` into `ranks` slabs: the boundary between slab
    /// `r−1` and `r` is the plane boundary whose cumulative masked count is nearest to `r·T/N`,
    /// so no rank's work is further than one plane's count from `T/N`. Planes without work at the
    /// ends go to the first and last slab so that every plane has an owner.
    public init(planeCounts: [Int], ranks: Int) {
        precondition(ranks >= 1)
        let total = planeCounts.reduce(0, +)
        var cumulative = [0]
        for count in planeCounts { cumulative.append(cumulative.last! + count) }
        var bounds = [0]
        var z = 0
        for r in 1..<ranks {
            // cumulative[z] · N nearest to r · T, z never moving backwards.
            let target = r * total
            while z < planeCounts.count && abs(cumulative[z + 1] * ranks - target) <= abs(cumulative[z] * ranks - target) {
                z += 1
            }
            bounds.append(total == 0 ? 0 : z)
        }
        bounds.append(planeCounts.count)
        ranges = (0..<ranks).map { bounds[$0] ..< bounds[$0 + 1] }
        work = ranges.map { planeCounts[$0].reduce(0, +) }
    }

    /// Slabs given by their planes (e.g. FFTW-MPI's distribution); the work of a slab is its
    /// plane count.
    public init(ranges: [Range<Int>]) {
        self.ranges = ranges
        work = ranges.map(\.count)
    }

    /// max/mean of the work per rank (1 = perfect balance).
    public var imbalance: Double {
        let mean = Double(work.reduce(0, +)) / Double(work.count)
        return mean > 0 ? Double(work.max()!) / mean : 1
    }
}

/// One transfer of a halo exchange: planes `planes` go from rank `from` to rank `to`.
public struct PlaneTransfer: Equatable, Sendable {
    public let from: Int
    public let to: Int
    public let planes: Range<Int>
}

/// Every transfer needed so that each rank holds its `HaloRange.held` planes: each owner sends the
/// part of its core that lies in another rank's halo. When a neighbour's slab is thinner than the
/// halo, planes come from ranks further away, directly. Pure, the same on every rank.
public func haloTransfers(partition: SlabPartition, below: Int, above: Int, depth: Int) -> [PlaneTransfer] {
    planeTransfers(owned: partition.ranges, wanted: partition.ranges.map {
        HaloRange(core: $0, below: below, above: above, depth: depth).held
    })
}

/// Every transfer that brings each rank `r` the planes `wanted[r]` from the ranks that own them
/// (`owned[r]`: rank `r`'s planes; the owned ranges are disjoint). A rank's own planes are not
/// transferred. Pure, the same on every rank.
public func planeTransfers(owned: [Range<Int>], wanted: [Range<Int>]) -> [PlaneTransfer] {
    var transfers: [PlaneTransfer] = []
    for (to, held) in wanted.enumerated() where !held.isEmpty {
        for (from, core) in owned.enumerated() where from != to {
            let low = max(core.lowerBound, held.lowerBound), high = min(core.upperBound, held.upperBound)
            if low < high { transfers.append(PlaneTransfer(from: from, to: to, planes: low ..< high)) }
        }
    }
    return transfers
}
