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
            for (rank, core) in plan.cores.enumerated() {
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
        #expect(widened.cores == plan.cores)
        for (rank, core) in plan.cores.enumerated() {
            let needed = map.heldPlanes(for: core, depth: depth), held = plan.held[rank]
            let union = core.isEmpty ? held
                : min(held.lowerBound, needed.lowerBound) ..< max(held.upperBound, needed.upperBound)
            #expect(widened.held[rank] == union, "stride \(stride), rank \(rank), core \(core)")
        }
        if stride == 1 { #expect(widened == plan) }
        #expect(MethodSlabs.exact(plan).holding(nil, depth: depth).planes(of: 1).held == plan.held[1])
    }

    /// Two levels of work that put the balanced boundary of 400 planes at 215, as the 400³
    /// ribosome's sparse mask does (benchmarks/RESULTS.md §21): slab 0 holds 0..<226 with the
    /// window-24 halo, slab 1 203..<400.
    static let ribosomeLike = [Int](repeating: 37, count: 215) + [Int](repeating: 43, count: 185)

    /// A ball's planes: most work in the middle, the end slabs the longest.
    static let ball = (0..<400).map { z in max(0, 180 * 180 - (z - 200) * (z - 200)) / 64 }

    /// The planes each slab of `plan` holds with the window's halo alone, in plane order.
    static func slabHeld(_ plan: ExactSlabPlan, window: Int) -> [Range<Int>] {
        plan.partition.ranges.map { $0.isEmpty ? $0 : max(0, $0.lowerBound - window / 2)
            ..< min(400, $0.upperBound - 1 - window / 2 + window) }
    }

    @Test("2 ranks, the ribosome's counts: rank 0 takes the shorter end slab (197 held planes, not 226)")
    func rankZeroTakesTheShorterSlab() {
        let plan = ExactSlabPlan(window: 24, rule: .exact(padFactor: 1), planeCounts: Self.ribosomeLike, ranks: 2)
        #expect(plan.partition.ranges == [0 ..< 215, 215 ..< 400])
        #expect(plan.slabOfRank == [1, 0])
        #expect(plan.cores == [215 ..< 400, 0 ..< 215])
        #expect(plan.held == [203 ..< 400, 0 ..< 226])
        #expect(plan.partition.work == [215 * 37, 185 * 43])
    }

    @Test("rank 0 holds the fewest planes of all ranks; only rank 0 and the rank of that slab swap",
          arguments: [1, 2, 3, 4, 5, 8, 16])
    func rankZeroHoldsTheFewest(ranks: Int) {
        for counts in [Self.ribosomeLike, Self.ball] {
            let plan = ExactSlabPlan(window: 24, rule: .exact(padFactor: 1), planeCounts: counts, ranks: ranks)
            let slabHeld = Self.slabHeld(plan, window: 24)
            let fewest = slabHeld.map(\.count).min()!
            #expect(plan.held[0].count == fewest, "\(ranks) ranks: \(plan.held)")
            // The first slab holding the fewest in plane order; slab 0 stays with rank 0 on a tie.
            let chosen = slabHeld.firstIndex { $0.count == fewest }!
            #expect(plan.slabOfRank[0] == chosen && plan.slabOfRank[chosen] == 0)
            for rank in 1..<ranks where rank != chosen { #expect(plan.slabOfRank[rank] == rank) }
            #expect(plan.held == plan.slabOfRank.map { slabHeld[$0] })
        }
    }

    @Test("ties keep rank order; the swap is a pure function of the held planes per slab")
    func ties() {
        #expect(ExactSlabPlan.slabOfRank(heldPlanes: [3, 5, 3]) == [0, 1, 2])
        #expect(ExactSlabPlan.slabOfRank(heldPlanes: [5, 4, 3, 3]) == [2, 1, 0, 3])
        #expect(ExactSlabPlan.slabOfRank(heldPlanes: [9, 0, 0]) == [1, 0, 2])
        #expect(ExactSlabPlan.slabOfRank(heldPlanes: [7]) == [0])
    }

    @Test("every plane is owned by exactly one rank, with the same work per slab, for any rank count",
          arguments: [1, 2, 3, 4, 5, 8, 19, 25])
    func everyPlaneOwnedOnce(ranks: Int) {
        for counts in [Self.planeCounts, Self.ribosomeLike, Self.ball] {
            let plan = ExactSlabPlan(window: 8, rule: .exact(padFactor: 1), planeCounts: counts, ranks: ranks)
            var owners = [Int](repeating: 0, count: counts.count)
            for core in plan.cores { for z in core { owners[z] += 1 } }
            #expect(owners.allSatisfy { $0 == 1 }, "\(ranks) ranks: \(plan.cores)")
            #expect(plan.slabOfRank.sorted() == Array(0..<ranks))
            #expect(plan.cores.map { counts[$0].reduce(0, +) }.sorted() == plan.partition.work.sorted())
            // In the order of their planes, the ranks' cores are the partition's slabs.
            let order = MethodSlabs.exact(plan).planes(of: 0).order
            #expect(order.map { plan.cores[$0] }.filter { !$0.isEmpty } == plan.partition.ranges.filter { !$0.isEmpty })
        }
    }

    @Test("after the swap each rank receives exactly its held planes: from the cores, and from an even split",
          arguments: [2, 3, 4, 8])
    func transfersBringTheHeldPlanes(ranks: Int) {
        for counts in [Self.ribosomeLike, Self.ball] {
            let plan = ExactSlabPlan(window: 24, rule: .exact(padFactor: 1), planeCounts: counts, ranks: ranks)
                .holding { core in max(0, core.lowerBound - 13) ..< min(400, core.upperBound + 13) }
            if counts == Self.ribosomeLike {
                #expect(plan.slabOfRank != Array(0..<ranks), "\(ranks) ranks: the swap must be active")
            }
            // The model map simulated by an even split (`PlaneSlabs`), and the cores themselves.
            let even = (0..<ranks).map { $0 * 400 / ranks ..< ($0 + 1) * 400 / ranks }
            for owned in [plan.cores, even] {
                let transfers = planeTransfers(owned: owned, wanted: plan.held)
                for rank in 0..<ranks {
                    var planes = Set(owned[rank].filter { plan.held[rank].contains($0) })
                    for t in transfers where t.to == rank {
                        #expect(owned[t.from].contains(t.planes.lowerBound)
                                && owned[t.from].contains(t.planes.upperBound - 1))
                        #expect(planes.isDisjoint(with: t.planes), "plane received twice: \(t)")
                        planes.formUnion(t.planes)
                    }
                    #expect(planes == Set(plan.held[rank]), "rank \(rank) of \(ranks)")
                }
            }
        }
    }
}
