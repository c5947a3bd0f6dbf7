import Foundation
import Testing
@testable import LocScaleCore

/// FSC and RSCC against the float64 numpy oracle (Tests/Fixtures/validation_fixtures.py) on a
/// non-cubic 28×20×24 box with voxel sizes 1.1, 1.0, 1.2 Å.
@Suite("FSC and RSCC against numpy")
struct ValidationTests {
    struct Expected: Decodable {
        struct Crossing: Decodable { let resolution: Double }
        let delta: Double
        let S: Int
        let shell_counts: [Int]
        let fsc_ab: [Double]
        let fsc_ab_masked: [Double]
        let fsc_half1_half2: [Double]
        let fsc_half1_vs_a: [Double]
        let resolutions: [String: [String: Crossing]]
        let rscc_ab_mask: Double
    }

    static let expected: Expected = try! JSONDecoder().decode(
        Expected.self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("val_expected.json"))))

    static func map(_ name: String) throws -> Volume { try Fixtures.read(name).volume }

    @Test("shells, FSC curves and their 0.143 / 0.5 resolutions agree to 1e-5",
          arguments: [("val_a.mrc", "val_b.mrc", false, "fsc_ab"), ("val_a.mrc", "val_b.mrc", true, "fsc_ab_masked"),
                      ("val_half1.mrc", "val_half2.mrc", false, "fsc_half1_half2"),
                      ("val_half1.mrc", "val_a.mrc", false, "fsc_half1_vs_a")])
    func fscCurves(first: String, second: String, masked: Bool, key: String) throws {
        let e = Self.expected
        let curve = MapComparison.fsc(try Self.map(first), try Self.map(second), mask: masked ? try Self.map("val_mask.mrc") : nil)
        #expect(abs(curve.shellWidth - e.delta) < 1e-6 * e.delta)
        #expect(curve.correlation.count == e.S + 1)
        #expect(curve.counts == e.shell_counts)
        let reference = ["fsc_ab": e.fsc_ab, "fsc_ab_masked": e.fsc_ab_masked, "fsc_half1_half2": e.fsc_half1_half2,
                         "fsc_half1_vs_a": e.fsc_half1_vs_a][key]!
        for (ours, theirs) in zip(curve.correlation, reference) { #expect(abs(ours - theirs) <= 1e-5, "\(key)") }
        for threshold in ["0.143", "0.5"] {
            let resolution = curve.resolution(at: Double(threshold)!)
            let oracle = e.resolutions[key]![threshold]!.resolution
            #expect(abs(resolution - oracle) <= 1e-5 * oracle, "\(key) at \(threshold): \(resolution) vs \(oracle)")
        }
    }

    @Test("the FSC of a map with itself is 1 in every shell")
    func selfFSC() throws {
        let a = try Self.map("val_a.mrc")
        #expect(MapComparison.fsc(a, a).correlation.allSatisfy { abs($0 - 1) < 1e-6 })
    }

    @Test("RSCC over the mask agrees to 1e-5")
    func rscc() throws {
        let value = MapComparison.realSpaceCorrelation(try Self.map("val_a.mrc"), try Self.map("val_b.mrc"),
                                                       mask: try Self.map("val_mask.mrc"))
        #expect(abs(value - Self.expected.rscc_ab_mask) <= 1e-5)
    }

    @Test("Guinier B of a Gaussian density exp(−4π²r²/B) recovers B (its amplitudes fall as exp(−B s²/4))")
    func guinier() {
        let n = 48, b = 60.0
        let grid = Grid(shape: XYZ(n, n, n), voxelSize: XYZ(1, 1, 1))
        var values = [Float](repeating: 0, count: n * n * n)
        for z in 0..<n { for y in 0..<n { for x in 0..<n {
            let r2 = Double((x - n / 2) * (x - n / 2) + (y - n / 2) * (y - n / 2) + (z - n / 2) * (z - n / 2))
            values[(z * n + y) * n + x] = Float(exp(-4 * Double.pi * Double.pi * r2 / b))
        } } }
        let profile = RadialProfile(Volume(grid: grid, values: values))
        let fitted = profile.guinierB(from: 10, to: 3)!
        #expect(abs(fitted - b) < 0.02 * b, "B = \(fitted)")
    }
}
