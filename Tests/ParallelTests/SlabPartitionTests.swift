import Testing
import LocScaleCore
@testable import LocScaleParallel

@Suite("Slab partition and halo plan (pure, no MPI)")
struct SlabPartitionTests {
    @Test("slabs are contiguous, cover every plane, and balance the work")
    func balancesWork() {
        // A spherical mask: most work in the middle planes.
        let counts = (0..<40).map { z in max(0, 400 - (z - 20) * (z - 20)) }
        for ranks in 1...8 {
            let partition = SlabPartition(planeCounts: counts, ranks: ranks)
            #expect(partition.ranges.count == ranks)
            #expect(partition.ranges.first!.lowerBound == 0)
            #expect(partition.ranges.last!.upperBound == 40)
            for r in 1..<ranks { #expect(partition.ranges[r].lowerBound == partition.ranges[r - 1].upperBound) }
            #expect(partition.work.reduce(0, +) == counts.reduce(0, +))
            // Nearest boundaries: each rank within one plane's count of the mean on either side.
            let mean = Double(counts.reduce(0, +)) / Double(ranks)
            for w in partition.work { #expect(abs(Double(w) - mean) <= 2 * Double(counts.max()!), "\(ranks) ranks: \(partition.work)") }
            if ranks <= 4 { #expect(partition.imbalance < 1.1, "\(ranks) ranks: \(partition.work)") }
        }
    }

    @Test("more ranks than planes with work: some ranks get nothing")
    func idleRanks() {
        let partition = SlabPartition(planeCounts: [0, 5, 5, 0], ranks: 6)
        #expect(partition.ranges.map(\.count).reduce(0, +) == 4)
        #expect(partition.work.filter { $0 == 0 }.count >= 4)
        #expect(partition.work.reduce(0, +) == 10)
    }

    @Test("halos reach across thin neighbours, straight from the owners")
    func multiHopHalo() {
        // Slabs of 1 plane, halo of 3 below and 4 above: rank 0 needs planes 1–4 from four ranks.
        let partition = SlabPartition(planeCounts: [Int](repeating: 1, count: 8), ranks: 8)
        #expect(partition.ranges == (0..<8).map { $0 ..< $0 + 1 })
        let transfers = haloTransfers(partition: partition, below: 3, above: 4, depth: 8)
        let toZero = transfers.filter { $0.to == 0 }
        #expect(toZero.map(\.from) == [1, 2, 3, 4])
        #expect(toZero.map(\.planes) == [1 ..< 2, 2 ..< 3, 3 ..< 4, 4 ..< 5])
        // Every rank ends up holding exactly its halo range.
        for rank in 0..<8 {
            let held = HaloRange(core: partition.ranges[rank], below: 3, above: 4, depth: 8).held
            var planes = Set(partition.ranges[rank])
            for t in transfers where t.to == rank { planes.formUnion(t.planes) }
            #expect(planes == Set(held))
        }
    }

    @Test("plane transfers between layouts: every rank gets exactly the planes it wants from their owners")
    func redistribution() {
        // FFTW-MPI-like owners (one rank without planes) and overlapping wanted ranges (slab + halo).
        let owned = [0 ..< 3, 3 ..< 5, 5 ..< 5, 5 ..< 9]
        let wanted = [0 ..< 6, 2 ..< 9, 4 ..< 4, 8 ..< 9]
        let transfers = planeTransfers(owned: owned, wanted: wanted)
        for rank in owned.indices {
            let received = transfers.filter { $0.to == rank }
            var planes = Set(owned[rank].filter { wanted[rank].contains($0) })
            for t in received {
                #expect(t.from != rank && owned[t.from].contains(t.planes.lowerBound)
                        && owned[t.from].contains(t.planes.upperBound - 1))
                #expect(planes.isDisjoint(with: t.planes), "plane received twice: \(t)")
                planes.formUnion(t.planes)
            }
            #expect(planes == Set(wanted[rank]), "rank \(rank)")
        }
        #expect(transfers.filter { $0.to == 0 }.map { [$0.from, $0.planes.lowerBound, $0.planes.upperBound] }
                == [[1, 3, 5], [3, 5, 6]])
    }

    @Test("a rank order: the ranks by their planes' first plane, ties (empty slabs) in rank order")
    func rankOrder() {
        #expect(RankOrder(planes: [215 ..< 400, 0 ..< 215]).ranks == [1, 0])
        #expect(RankOrder(planes: [12 ..< 20, 9 ..< 12, 0 ..< 9]).ranks == [2, 1, 0])
        #expect(RankOrder(planes: [3 ..< 3, 0 ..< 3, 3 ..< 5, 5 ..< 5]).ranks == [1, 0, 2, 3])
        #expect(RankOrder(planes: [0 ..< 4, 4 ..< 8]).ranks == [0, 1])
        let order = RankOrder([2, 0, 1], size: 3)
        #expect([0, 1, 2].map(order.position(of:)) == [1, 2, 0])
        #expect(RankOrder(nil, size: 4).ranks == [0, 1, 2, 3])
    }
}
