import Testing
import LocScaleCore
import LocScaleParallel
@testable import LocScaleEngine

/// Exact mode's slab plan without MPI, against the window's definition: the cube of voxel z spans
/// planes z − w/2 … z − w/2 + w − 1 (w/2 rounded down), so a rank must hold (read) exactly the planes
/// its voxels' cubes reach inside the box.
@Suite("Exact mode's slab plan (pure, no MPI)")
struct ExactSlabPlanTests {
    /// Masked voxels per plane: a ball-like profile with empty planes at both ends.
    static let planeCounts = [0, 0, 3, 9, 20, 31, 40, 44, 40, 31, 20, 9, 3, 1, 0, 0, 0, 2, 0]

    @Test("each rank holds exactly the planes its windows reach",
          arguments: [4, 7, 8, 11], [1, 2, 3, 5, 8])
    func heldPlanesFollowTheWindow(window: Int, ranks: Int) {
        let depth = Self.planeCounts.count
        for rule in [ScalingRule.exact(padFactor: 1), .exact(padFactor: 2), .locscale2] {
            if rule == .locscale2 && window % 2 == 1 { continue }
            let plan = ExactSlabPlan(window: window, rule: rule, planeCounts: Self.planeCounts, ranks: ranks)
            #expect(plan.partition.ranges.count == ranks)
            for (rank, core) in plan.partition.ranges.enumerated() {
                let reached = core.isEmpty ? core
                    : max(0, core.lowerBound - window / 2) ..< min(depth, core.upperBound - 1 - window / 2 + window)
                #expect(plan.held[rank] == reached, "w \(window), rank \(rank) of \(ranks), core \(core)")
            }
        }
    }

    @Test("holding the local B map's planes: cores unchanged, held = the union of both reaches; nil: unchanged",
          arguments: [1, 2, 3, 4])
    func holdingTheLocalBPlanes(stride: Int) {
        let depth = Self.planeCounts.count, window = 8
        let plan = ExactSlabPlan(window: window, rule: .exact(padFactor: 1), planeCounts: Self.planeCounts, ranks: 4)
        let map = LocalBFactorMap(window: window, voxelSize: 1, noiseVariance: nil, stride: stride, planning: .estimate)
        let widened = plan.holding { map.heldPlanes(for: $0, depth: depth) }
        #expect(widened.partition == plan.partition)
        for (rank, core) in plan.partition.ranges.enumerated() {
            let needed = map.heldPlanes(for: core, depth: depth), held = plan.held[rank]
            let union = core.isEmpty ? held
                : min(held.lowerBound, needed.lowerBound) ..< max(held.upperBound, needed.upperBound)
            #expect(widened.held[rank] == union, "stride \(stride), rank \(rank), core \(core)")
        }
        if stride == 1 { #expect(widened == plan) }
        #expect(MethodSlabs.exact(plan).holding(nil, depth: depth).planes(of: 1).held == plan.held[1])
    }
}
