import LocScaleCore
import LocScaleParallel

/// Exact mode's distribution, a pure function of the window, the rule, the masked voxels per plane
/// and the number of ranks, the same on every rank: the planes each rank owns (slabs with equal
/// masked voxels) and the planes it holds (those its voxels' windows reach), which it reads.
///
/// The slabs are handed to the ranks in plane order, except that rank 0 — which also holds the
/// run's headers, plans and timing table — takes the slab that holds the fewest planes (core and
/// halo; the first such slab in plane order), and that slab's rank takes slab 0: the slabs at the
/// ends of the box are the longest (the particle is thin there), so rank 0 would otherwise hold
/// the most planes. Same boundaries, same work per slab; only who holds which changes. Whatever
/// adds over the ranks therefore goes in plane order (`RankPlanes.order`), not rank order.
struct ExactSlabPlan: Equatable, Sendable {
    /// The slabs, in plane order (`partition.ranges[s]`: slab s).
    let partition: SlabPartition
    /// `slabOfRank[r]`: the slab rank `r` owns.
    let slabOfRank: [Int]
    /// Planes a window reaches below and above its centre voxel (the cube's centre index, and the
    /// cube's planes after it).
    let below: Int, above: Int
    /// `held[r]`: the planes rank `r` holds, its core and halo, within the box.
    private(set) var held: [Range<Int>]

    init(window: Int, rule: ScalingRule, planeCounts: [Int], ranks: Int) {
        let layout = SpectrumLayout(window: window, rule: rule)
        partition = SlabPartition(planeCounts: planeCounts, ranks: ranks)
        below = layout.centre
        above = layout.window - 1 - layout.centre
        let depth = planeCounts.count
        let slabHeld = partition.ranges.map { [below, above] in
            HaloRange(core: $0, below: below, above: above, depth: depth).held
        }
        slabOfRank = Self.slabOfRank(heldPlanes: slabHeld.map(\.count))
        held = slabOfRank.map { slabHeld[$0] }
    }

    /// Which slab each rank owns, given the planes each slab holds (`heldPlanes[s]`, plane
    /// order): rank 0 the first slab holding the fewest, the rank of that slab slab 0, every other
    /// rank its own. Pure: the same on every rank.
    static func slabOfRank(heldPlanes: [Int]) -> [Int] {
        var slabs = Array(heldPlanes.indices)
        if let fewest = heldPlanes.indices.min(by: { heldPlanes[$0] < heldPlanes[$1] }) {
            slabs.swapAt(0, fewest)
        }
        return slabs
    }

    /// `cores[r]`: the planes rank `r` owns and writes.
    var cores: [Range<Int>] { slabOfRank.map { partition.ranges[$0] } }

    /// The plan with each rank also holding `needed(core)`, the planes another computation on its
    /// core reads (the local B map's windows, `LocalBEstimator.heldPlanes`); the cores and which
    /// rank owns which unchanged.
    func holding(_ needed: (Range<Int>) -> Range<Int>) -> ExactSlabPlan {
        var plan = self
        plan.held = zip(cores, held).map { core, held in
            let extra = needed(core)
            return core.isEmpty || extra.isEmpty ? held
                : min(held.lowerBound, extra.lowerBound) ..< max(held.upperBound, extra.upperBound)
        }
        return plan
    }
}
