/// A split of the z-planes of a map into contiguous slabs, one per rank, with about the same
/// number of masked voxels (the work) in each — not the same number of planes: a spherical mask
/// puts most of the work in the middle planes. A pure function of the per-plane counts, so every
/// rank computes the same partition.
public struct SlabPartition: Equatable, Sendable {
    /// `ranges[r]` = the planes (z) rank `r` owns; empty for a rank without work, which still
    /// takes part in every collective.
    public let ranges: [Range<Int>]
    /// Masked voxels in each rank's slab.
    public let work: [Int]

    /// Splits planes `0 ..< planeCounts.count` into `ranks` slabs. Rank `r` gets the planes whose
    /// cumulative masked count before them lies in `[r·T/N, (r+1)·T/N)`; planes without work at the
    /// ends go to the first and last rank so that every plane has an owner.
    public init(planeCounts: [Int], ranks: Int) {
        precondition(ranks >= 1)
        let total = planeCounts.reduce(0, +)
        var bounds = [Int](repeating: planeCounts.count, count: ranks + 1)
        bounds[0] = 0
        var cumulative = 0
        var rank = 1
        for (z, count) in planeCounts.enumerated() {
            // Plane z starts rank r's slab once the work before it reaches r's share.
            while rank < ranks && cumulative * ranks >= rank * total && total > 0 {
                bounds[rank] = z
                rank += 1
            }
            cumulative += count
        }
        if total == 0 { for r in 1..<ranks + 1 { bounds[r] = r == ranks ? planeCounts.count : 0 } }
        for r in 1...ranks { bounds[r] = max(bounds[r], bounds[r - 1]) }
        ranges = (0..<ranks).map { bounds[$0] ..< bounds[$0 + 1] }
        work = ranges.map { planeCounts[$0].reduce(0, +) }
    }

    /// max/mean of the work per rank (1 = perfect balance).
    public var imbalance: Double {
        let mean = Double(work.reduce(0, +)) / Double(work.count)
        return mean > 0 ? Double(work.max()!) / mean : 1
    }
}

/// The planes a rank needs beyond its own slab to cut every window of it: its slab widened by
/// `below` planes under and `above` planes over it, clipped to the box (cubes that leave the box
/// use the extension value, not data).
public struct HaloRange: Equatable, Sendable {
    /// Planes owned (core).
    public let core: Range<Int>
    /// Planes held: core plus halo, within `0 ..< depth`.
    public let held: Range<Int>

    public init(core: Range<Int>, below: Int, above: Int, depth: Int) {
        self.core = core
        held = core.isEmpty ? core : max(0, core.lowerBound - below) ..< min(depth, core.upperBound + above)
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
    var transfers: [PlaneTransfer] = []
    let halos = partition.ranges.map { HaloRange(core: $0, below: below, above: above, depth: depth) }
    for (to, halo) in halos.enumerated() where !halo.core.isEmpty {
        for (from, core) in partition.ranges.enumerated() where from != to {
            let low = max(core.lowerBound, halo.held.lowerBound), high = min(core.upperBound, halo.held.upperBound)
            if low < high { transfers.append(PlaneTransfer(from: from, to: to, planes: low ..< high)) }
        }
    }
    return transfers
}
