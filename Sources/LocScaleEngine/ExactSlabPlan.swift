import LocScaleCore
import LocScaleParallel

/// Exact mode's distribution, a pure function of the window, the rule, the masked voxels per plane
/// and the number of ranks, the same on every rank: the planes each rank owns (slabs with equal
/// masked voxels) and the planes it holds (those its voxels' windows reach), which it reads.
struct ExactSlabPlan: Equatable, Sendable {
    let partition: SlabPartition
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
        held = partition.ranges.map { [below, above] in HaloRange(core: $0, below: below, above: above, depth: depth).held }
    }

    /// The plan with each rank also holding `needed(core)`, the planes another computation on its
    /// core reads (the local B map's windows, `LocalBEstimator.heldPlanes`); the cores unchanged.
    func holding(_ needed: (Range<Int>) -> Range<Int>) -> ExactSlabPlan {
        var plan = self
        plan.held = zip(partition.ranges, held).map { core, held in
            let extra = needed(core)
            return core.isEmpty || extra.isEmpty ? held
                : min(held.lowerBound, extra.lowerBound) ..< max(held.upperBound, extra.upperBound)
        }
        return plan
    }
}
