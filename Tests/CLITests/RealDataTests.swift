import Foundation
import Testing
import LocScaleCore

/// EMD-3488 (haemoglobin, 100³, 1.05 Å) with a model map of PDB 5ME2 made by the fixture
/// script (Tests/Fixtures/fetch_emd3488.sh). `./cmake-free-build.sh test` fetches it and sets
/// LOCALSCALE_TESTDATA; a bare `swift test` without it skips this suite.
@Suite("EMD-3488 end to end",
       .enabled(if: ProcessInfo.processInfo.environment["LOCALSCALE_TESTDATA"] != nil))
struct RealDataTests {
    static let data = ProcessInfo.processInfo.environment["LOCALSCALE_TESTDATA"] ?? ""

    @Test("scales EMD-3488 with window 24, and the map moves towards the model")
    func emd3488() throws {
        let scratch = Scratch()
        let result = try CLITests.run(["scale", "--em", "emd_3488.mrc", "--model-map", "emd3488_model.mrc",
                                       "--mask", "emd3488_mask.mrc", "--pad-factor", "1", "--out", scratch.file("out.mrc")],
                                      in: Self.data)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("window 24 voxels (25.2 Å), FFT box 24³"))
        let em = try MRCFile.read(path: Self.data + "/emd_3488.mrc").volume
        let model = try MRCFile.read(path: Self.data + "/emd3488_model.mrc").volume.values
        let mask = try MRCFile.read(path: Self.data + "/emd3488_mask.mrc").volume.values
        let out = try MRCFile.read(path: scratch.file("out.mrc")).volume
        #expect(out.grid == em.grid)
        let outside = mask.indices.allSatisfy { mask[$0] >= 0.5 || out.values[$0] == 0 }
        #expect(outside)
        #expect(out.values.allSatisfy { $0.isFinite })
        let before = correlation(em.values, model) { mask[$0] >= 0.5 }
        let after = correlation(out.values, model) { mask[$0] >= 0.5 }
        // Measured: 0.634 before, 0.747 after.
        #expect(after > before + 0.08, "correlation with the model map \(before) → \(after)")
    }
}
