import Foundation
import Testing
import TestSupport
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

/// Half maps = signal + independent noise with a known spectral SNR: the half-map FSC must cross
/// 0.143 within one shell of where SNR/(1 + SNR) = 0.143 predicts.
@Suite("Half-map FSC of a known signal-to-noise ratio")
struct HalfMapCrossingTests {
    @Test func crossingWithinOneShell() {
        let n = 64
        let grid = Grid(shape: XYZ(n, n, n), voxelSize: XYZ(1, 1, 1))
        var generator = SplitMix64(seed: 42)
        // White signal and white noise, then the signal filtered by exp(−B s²/4): SNR(s) =
        // (σs²/σn²) exp(−B s²/2). With σs = 1, σn = 0.5, B = 40: SNR = 4 exp(−20 s²) = 0.1668
        // (FSC 0.143) at s² = ln(4/0.1668)/20 = 0.1589, s = 0.3986 Å⁻¹, shell 25.5 (Δ = 1/64).
        func white(_ sigma: Float) -> [Float] {
            (0..<n * n * n).map { _ in
                let u1 = Float.random(in: Float.ulpOfOne...1, using: &generator), u2 = Float.random(in: 0...1, using: &generator)
                return sigma * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
            }
        }
        let signal = blurred(white(1), n: n, b: 40)
        let noise1 = white(0.5), noise2 = white(0.5)
        let half1 = Volume(grid: grid, values: zip(signal, noise1).map { $0 + $1 })
        let half2 = Volume(grid: grid, values: zip(signal, noise2).map { $0 + $1 })
        let curve = MapComparison.fsc(half1, half2)
        let crossingShell = 1 / curve.resolution(at: 0.143) / curve.shellWidth
        let expected = (log(4 / (0.143 / (1 - 0.143))) / 20).squareRoot() / curve.shellWidth
        #expect(abs(crossingShell - expected) <= 1, "crossing at shell \(crossingShell), expected \(expected)")
    }

    /// `values` (n³, 1 Å voxels) multiplied in Fourier space by exp(−b s²/4).
    private func blurred(_ values: [Float], n: Int, b: Double) -> [Float] {
        let forward = RealToComplexPlan3D(nz: n, ny: n, nx: n, planning: .estimate)
        let inverse = ComplexToRealPlan3D(nz: n, ny: n, nx: n)
        let input = AlignedBuffer<Float>(count: n * n * n), spectrum = AlignedBuffer<Float>(count: 2 * forward.complexCount)
        _ = input.buffer.update(from: values)
        forward.execute(input, spectrum)
        let half = n / 2 + 1
        func f(_ k: Int) -> Double { Double(k <= n / 2 ? k : k - n) / Double(n) }
        for kz in 0..<n { for ky in 0..<n { for kx in 0..<half {
            let s2 = f(kz) * f(kz) + f(ky) * f(ky) + f(kx) * f(kx)
            let j = 2 * ((kz * n + ky) * half + kx)
            let g = Float(exp(-b * s2 / 4)) / Float(n * n * n)
            spectrum.pointer[j] *= g
            spectrum.pointer[j + 1] *= g
        } } }
        let output = AlignedBuffer<Float>(count: n * n * n)
        inverse.execute(spectrum, output)
        return Array(output.buffer)
    }
}
