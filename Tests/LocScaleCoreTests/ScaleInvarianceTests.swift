import Foundation
import Testing
@testable import LocScaleCore

/// `MapNormalisation`: which powers of two the maps are computed at (the CLI suite
/// NumericsCLITests checks what that does to the output).
@Suite("map normalisation")
struct ScaleInvarianceTests {
    @Test("maps of usual scale keep exponent 0, so their outputs keep their bits")
    func usualMapsUntouched() throws {
        for name in ["em.mrc", "model.mrc", "b_em.mrc", "b_model.mrc"] {
            let values = try MRCFile.read(path: Fixtures.path(name)).volume.values
            #expect(MapNormalisation.exponent(of: values) == 0, "\(name)")
        }
        guard let data = ProcessInfo.processInfo.environment["LOCALSCALE_TESTDATA"] else { return }
        for name in ["emd_3488.mrc", "emd3488_model.mrc"] {
            let values = try MRCFile.read(path: data + "/" + name).volume.values
            #expect(MapNormalisation.exponent(of: values) == 0, "\(name)")
        }
    }

    @Test("other maps are brought to a largest magnitude in [0.5, 1), exactly")
    func exponents() {
        #expect(MapNormalisation.exponent(of: [0, 0]) == 0)
        #expect(MapNormalisation.exponent(of: [0.0625, -7.99]) == 0)
        #expect(MapNormalisation.exponent(of: [0.062, 0]) == -4)
        #expect(MapNormalisation.exponent(of: [-8, 1]) == 4)
        #expect(MapNormalisation.exponent(of: [3e38]) == 128)
        #expect(MapNormalisation.exponent(of: [1e-44]) == -146)
        var values: [Float] = [1e-44, -3e-45, 0]
        MapNormalisation.scale(&values, by: -146)
        #expect(values == [Float(7) / 8, -Float(2) / 8, 0])
        var large: [Float] = [3e38, -1]
        let normalisation = MapNormalisation(experimental: [1], model: large)
        normalisation.normaliseModel(&large)
        #expect(large[0] == Float(sign: .plus, exponent: -128, significand: 3e38) && large[1] == -0x1p-128)
    }

    @Test("restoring multiplies by the model's power of two and refuses a non-finite voxel with its position")
    func restore() throws {
        let normalisation = MapNormalisation(experimentalExponent: 3, modelExponent: -5)
        var output: [Float] = [1, -0.5, 0]
        try normalisation.restore(&output, shape: XYZ(3, 1, 1))
        #expect(output == [0x1p-5, -0x1p-6, 0])
        var broken: [Float] = [1, 2, 3, .infinity]
        #expect(throws: MapRangeError.nonFiniteOutput(x: 1, y: 1, z: 0, value: .infinity)) {
            try normalisation.restore(&broken, shape: XYZ(2, 2, 1))
        }
        #expect(MapRangeError.nonFiniteOutput(x: 1, y: 1, z: 0, value: .infinity).description
            == "internal error: the scaled map is inf at voxel (x, y, z) = (1, 1, 0); nothing written")
    }
}
