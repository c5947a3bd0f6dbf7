import Foundation
import Testing
import LocScaleCore
@testable import LocScaleEngine

/// `ValidateRun` in this process on the one-rank world (in `ScaleRunTests`' serialized suite,
/// which owns the communicator): the slab-based validation against the whole-map one.
extension ScaleRunTests {
    @Test("ValidateRun by slab on one rank: the whole-map validation's RSCC bit for bit, its FSC and Guinier B")
    func validateBySlabMatchesWholeMaps() throws {
        func path(_ name: String) -> String { Self.fixtures + "/" + name }
        let job = ValidateJob(map: path("val_b.mrc"), model: .map(path("val_a.mrc")), mask: path("val_mask.mrc"),
                              halfMaps: [path("val_half1.mrc"), path("val_half2.mrc")], reportDirectory: nil,
                              threads: 1, provenance: Self.provenance)
        let slabs = try #require(try ValidateRun(job: job, communicator: Self.communicator, logger: Self.logger).run())

        func read(_ name: String) throws -> Volume { try MRCFile.read(path: path(name)).volume }
        let (map, model, mask) = (try read("val_b.mrc"), try read("val_a.mrc"), try read("val_mask.mrc"))
        let halves = (try read("val_half1.mrc"), try read("val_half2.mrc"))
        let whole = MapValidation(name: "map", map: map, modelMap: model, mask: mask, halfMaps: true, model: nil,
                                  resolution: nil, sums: MapValidation.sums(masked: mask, halves: halves, map: map,
                                                                            modelMap: model))
        #expect(slabs.rscc == whole.rscc)
        #expect(slabs.rscc == MapComparison.realSpaceCorrelation(map, model, mask: mask))
        let curves = [(slabs.fsc, whole.fsc), (slabs.maskedFSC!, whole.maskedFSC!),
                      (slabs.halfMapFSC!, whole.halfMapFSC!)]
        for (a, b) in curves {
            // Measured: equal (FFTW-MPI on one rank and FFTW give the same coefficients here).
            #expect(zip(a.correlation, b.correlation).allSatisfy { abs($0 - $1) <= 1e-12 })
            #expect(abs(a.resolution(at: 0.5) - b.resolution(at: 0.5)) <= 1e-9 * b.resolution(at: 0.5))
        }
        #expect(abs(slabs.guinierB! - whole.guinierB!) <= 1e-12 * abs(whole.guinierB!))
        #expect(slabs.slices.xy == whole.slices.xy && slabs.slices.xz == whole.slices.xz
                && slabs.slices.yz == whole.slices.yz)
        #expect(slabs.maskSlices!.xy == whole.maskSlices!.xy)
    }
}
