import Foundation
import Testing
import LocScaleCore
import LocScaleEngine
import TestSupport

/// The confidence engine in-process on one rank: the library entry `scale` uses for its automatic
/// mask, and the job's JSON form. In `ScaleRunTests`' suite, so that MPI is called from one thread.
extension ScaleRunTests {
    @Test("ConfidenceMask.compute gives the oracle's confidence and mask, and the masked fraction")
    func confidenceLibraryEntry() throws {
        let slab = try ConfidenceMask.compute(experimental: .map(Self.fixtures + "/conf_em.mrc"), planes: 0..<28,
                                              window: nil, fdr: 0.01, communicator: Self.communicator)
        let expected = try MRCFile.read(path: Self.fixtures + "/conf_expected_w4.mrc").volume.values
        let expectedMask = try MRCFile.read(path: Self.fixtures + "/conf_expected_w4_mask.mrc").volume.values
        #expect(slab.mask == expectedMask)
        #expect(zip(slab.confidence, expected).allSatisfy { abs($0 - $1) <= 1e-6 })
        #expect(slab.maskedVoxels == 34 && slab.testedVoxels == 9048 && slab.voxelCount == 13440)
        #expect(slab.maskedFraction == 34.0 / 13440.0)
        #expect(slab.region.window == 4)
    }

    @Test("ConfidenceSlab.test classifies any planes as compute does its own (scale's halo planes)")
    func confidenceTestOnOtherPlanes() throws {
        let path = Self.fixtures + "/conf_em.mrc"
        let slab = try ConfidenceMask.compute(experimental: .map(path), planes: 0..<28, window: nil, fdr: 0.01,
                                              communicator: Self.communicator)
        let values = try MRCFile.read(path: path).volume.values
        let plane = 24 * 20
        #expect(slab.rule.mask(values, planes: 0..<28) == slab.mask)
        for planes in [0..<1, 9..<17, 20..<28] {
            let part = Array(values[planes.lowerBound * plane ..< planes.upperBound * plane])
            #expect(slab.rule.mask(part, planes: planes)[...]
                    == slab.mask[planes.lowerBound * plane ..< planes.upperBound * plane], "\(planes)")
        }
        #expect(slab.rule.mask(values, planes: 0..<28).filter { $0 == 1 }.count == 34)
    }

    @Test("a ConfidenceJob survives JSONEncoder → JSONDecoder unchanged")
    func confidenceJobCodable() throws {
        let job = ConfidenceJob(experimental: .halfMaps("a.mrc", "b.mrc"), fdr: 0.05, window: 12, out: "c.mrc",
                                maskOut: "m.mrc", provenance: Self.provenance)
        #expect(try JSONDecoder().decode(ConfidenceJob.self, from: JSONEncoder().encode(job)) == job)
    }
}
