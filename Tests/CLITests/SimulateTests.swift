import Foundation
import Testing
import LocScaleCore

/// Pearson correlation of `a` and `b` over the indices where `include` holds.
func correlation(_ a: [Float], _ b: [Float], where include: (Int) -> Bool = { _ in true }) -> Double {
    var n = 0.0, sa = 0.0, sb = 0.0, saa = 0.0, sbb = 0.0, sab = 0.0
    for i in a.indices where include(i) {
        let x = Double(a[i]), y = Double(b[i])
        n += 1; sa += x; sb += y; saa += x * x; sbb += y * y; sab += x * y
    }
    return (sab - sa * sb / n) / ((saa - sa * sa / n) * (sbb - sb * sb / n)).squareRoot()
}

@Suite("localscale simulate")
struct SimulateTests {
    @Test("a model outside the map box is an error giving the fraction inside and both boxes")
    func frameMismatch() throws {
        let scratch = Scratch()
        let result = try CLITests.run(["simulate", "--model", "../models/small.pdb", "--like", "iota_mode2.mrc",
                                       "--out", scratch.file("m.mrc")])
        #expect(result.status == 1)
        #expect(result.stderr == "localscale: error: ../models/small.pdb: only 12.5 % of the atoms lie inside the map box (model (-5.5, -2.5, -7.8)–(13, 6.6, 5) Å, map (0, 0, 0)–(5, 4, 3) Å); are model and map in the same frame?\n")
        #expect(!FileManager.default.fileExists(atPath: scratch.file("m.mrc")))
    }

    @Test("a resolution finer than Nyquist is an error")
    func beyondNyquist() throws {
        let scratch = Scratch()
        let result = try CLITests.run(["simulate", "--model", "../models/small.pdb", "--like", "em.mrc",
                                       "--resolution", "2", "--out", scratch.file("m.mrc")])
        #expect(result.status == 1)
        #expect(result.stderr == "localscale: error: --resolution 2 Å is finer than the map's Nyquist limit 2.4 Å\n")
    }
}

/// 5ME2 on the EMD-3488 grid against gemmi's DensityCalculatorE (Tests/Fixtures/emd3488_model_map.py,
/// 2× oversampled with blur, cut at 2.1 Å = Nyquist).
@Suite("simulate 5ME2 on EMD-3488", .enabled(if: ProcessInfo.processInfo.environment["LOCALSCALE_TESTDATA"] != nil))
struct SimulateRealDataTests {
    static let data = ProcessInfo.processInfo.environment["LOCALSCALE_TESTDATA"] ?? ""

    @Test("matches gemmi: correlation ≥ 0.99 over the box and ≥ 0.995 within 3 Å of the atoms; threads do not matter")
    func matchesGemmi() throws {
        let scratch = Scratch()
        for threads in ["1", "2"] {
            let result = try CLITests.run(["simulate", "--model", "5me2.pdb", "--like", "emd_3488.mrc", "--threads", threads,
                                           "--out", scratch.file("t\(threads).mrc")], in: Self.data)
            #expect(result.status == 0, "\(result.stderr)")
        }
        let one = try CLITests.dataBytes(scratch.file("t1.mrc")), two = try CLITests.dataBytes(scratch.file("t2.mrc"))
        #expect(one == two)
        let ours = try MRCFile.read(path: scratch.file("t1.mrc")).volume
        let gemmi = try MRCFile.read(path: Self.data + "/emd3488_model.mrc").volume
        #expect(ours.grid == gemmi.grid)
        let model = try AtomicModel.read(path: Self.data + "/5me2.pdb")
        let near = Set(voxels(near: model.atoms, on: ours.grid, within: 3))
        let overall = correlation(ours.values, gemmi.values)
        let nearAtoms = correlation(ours.values, gemmi.values) { near.contains($0) }
        // Measured: 0.99999999 and 0.99999999 (relative RMS 1e-4).
        #expect(overall >= 0.99)
        #expect(nearAtoms >= 0.995)
        #expect(relativeRMS(ours.values, gemmi.values) < 1e-3)
    }

    @Test("scale --model simulates on the grid of --em and scales, like --model-map with that map")
    func scaleWithModel() throws {
        let scratch = Scratch()
        let result = try CLITests.run(["scale", "--em", "emd_3488.mrc", "--model", "5me2.pdb", "--mask", "emd3488_mask.mrc",
                                       "--pad-factor", "1", "--out", scratch.file("out.mrc"), "--fftw-wisdom", scratch.file("wisdom"),
                                       "--save-model-map", scratch.file("model.mrc")], in: Self.data)
        #expect(result.status == 0, "\(result.stderr)")
        let viaMap = try CLITests.run(["scale", "--em", "emd_3488.mrc", "--model-map", scratch.file("model.mrc"),
                                       "--mask", "emd3488_mask.mrc", "--pad-factor", "1", "--out", scratch.file("out2.mrc"),
                                       "--fftw-wisdom", scratch.file("wisdom")],
                                      in: Self.data)
        #expect(viaMap.status == 0)
        #expect(try CLITests.dataBytes(scratch.file("out.mrc")) == CLITests.dataBytes(scratch.file("out2.mrc")))
    }
}

/// sqrt(Σ(a−b)²/Σb²).
func relativeRMS(_ a: [Float], _ b: [Float]) -> Double {
    var d = 0.0, r = 0.0
    for i in a.indices {
        d += pow(Double(a[i]) - Double(b[i]), 2)
        r += Double(b[i]) * Double(b[i])
    }
    return (d / r).squareRoot()
}
