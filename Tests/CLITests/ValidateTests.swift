import Foundation
import Testing

/// `localscale validate` and its report, against the numpy oracle (validation_fixtures.py).
@Suite("localscale validate")
struct ValidateTests {
    static func oracle() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: CLITests.fixtures + "/val_expected.json"))) as! [String: Any]
    }

    static func resolution(_ oracle: [String: Any], _ curve: String, _ threshold: String) -> Double {
        let resolutions = oracle["resolutions"] as! [String: [String: [String: Any]]]
        return resolutions[curve]![threshold]!["resolution"] as! Double
    }

    static func summary(_ directory: String) throws -> [String: Any] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/summary.json"))) as! [String: Any]
        return (json["maps"] as! [String: Any])["map"] as! [String: Any]
    }

    @Test("summary.json holds the oracle's FSC resolutions, FSC_ref and RSCC; the report is one self-contained page")
    func summaryAgainstOracle() throws {
        let scratch = Scratch()
        let oracle = try Self.oracle()
        let plain = try CLITests.run(["validate", "--map", "val_b.mrc", "--model-map", "val_a.mrc",
                                      "--half-maps", "val_half1.mrc", "val_half2.mrc", "--report", scratch.file("plain")])
        #expect(plain.status == 0, "\(plain.stderr)")
        let a = try Self.summary(scratch.file("plain"))
        func close(_ x: Any?, _ y: Double) -> Bool { abs((x as! Double) - y) <= 1e-5 * abs(y) }
        #expect(close(a["fsc_map_model_0.5_resolution_A"], Self.resolution(oracle, "fsc_ab", "0.5")))
        #expect(close(a["half_map_fsc_0.143_resolution_A"], Self.resolution(oracle, "fsc_half1_half2", "0.143")))
        let references = a["fsc_ref_0.5_resolution_A"] as! [Double]
        #expect(close(references[0], Self.resolution(oracle, "fsc_half1_vs_a", "0.5")))
        #expect(close(references[1], Self.resolution(oracle, "fsc_half2_vs_a", "0.5")))

        let masked = try CLITests.run(["validate", "--map", "val_a.mrc", "--model-map", "val_b.mrc", "--mask", "val_mask.mrc",
                                       "--report", scratch.file("masked")])
        #expect(masked.status == 0, "\(masked.stderr)")
        let m = try Self.summary(scratch.file("masked"))
        #expect(close(m["fsc_map_model_masked_0.5_resolution_A"], Self.resolution(oracle, "fsc_ab_masked", "0.5")))
        #expect(close(m["rscc_mask"], oracle["rscc_ab_mask"] as! Double))

        let html = try String(contentsOfFile: scratch.file("plain/report.html"), encoding: .utf8)
        #expect(html.components(separatedBy: "<svg").count - 1 >= 2 + 3)
        #expect(!html.contains("<script"))
        #expect(!html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http"))
        let csv = try String(contentsOfFile: scratch.file("plain/fsc-map.csv"), encoding: .utf8)
        #expect(csv.hasPrefix("shell,s_per_A,d_A,fsc_map_model,fsc_half_maps,fsc_ref_half1,fsc_ref_half2\n"))
        #expect(csv.split(separator: "\n").count == 1 + (oracle["S"] as! Int) + 1)
    }

    @Test("the Guinier range is 10 Å to the half-map resolution by default, and --guinier-from moves its low end")
    func guinierRange() throws {
        let scratch = Scratch()
        let oracle = try Self.oracle()
        for (extra, low) in [([String](), 10.0), (["--guinier-from", "7.5"], 7.5)] {
            let result = try CLITests.run(["validate", "--map", "val_b.mrc", "--model-map", "val_a.mrc",
                                           "--half-maps", "val_half1.mrc", "val_half2.mrc", "--report", scratch.file("g\(low)")] + extra)
            #expect(result.status == 0)
            let range = try Self.summary(scratch.file("g\(low)"))["guinier_range_A"] as! [Double]
            #expect(range[0] == low)
            #expect(abs(range[1] - Self.resolution(oracle, "fsc_half1_half2", "0.143")) < 1e-5 * range[1])
        }
    }

    @Test("the report renders in headless Chromium: the plots' coloured lines are on the screenshot",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")))
    func rendersInChromium() throws {
        let scratch = Scratch()
        let result = try CLITests.run(["validate", "--map", "val_b.mrc", "--model-map", "val_a.mrc", "--mask", "val_mask.mrc",
                                       "--half-maps", "val_half1.mrc", "val_half2.mrc", "--report", scratch.file("r")])
        #expect(result.status == 0)
        let shot = try CLITests.launch("/usr/bin/chromium", ["--headless", "--no-sandbox", "--disable-gpu",
                                                             "--screenshot=" + scratch.file("shot.png"), "--window-size=1200,1400",
                                                             "file://" + scratch.file("r/report.html")], limit: 90)
        #expect(FileManager.default.fileExists(atPath: scratch.file("shot.png")), "\(shot.stderr)")
        let count = try CLITests.launch("python3", [CLITests.fixtures + "/../png_colour_pixels.py", scratch.file("shot.png")])
        // Measured on the EMD-3488 report: 3581 coloured pixels; a page whose SVGs did not render has 0.
        #expect((Int(count.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 500, "\(count.stdout) \(count.stderr)")
    }

    @Test("per-residue RSCC of EMD-3488 against 5ME2: one row per residue",
          .enabled(if: ProcessInfo.processInfo.environment["LOCALSCALE_TESTDATA"] != nil))
    func perResidueRows() throws {
        let scratch = Scratch()
        let data = ProcessInfo.processInfo.environment["LOCALSCALE_TESTDATA"]!
        let result = try CLITests.run(["validate", "--map", "emd_3488.mrc", "--model", "5me2.pdb", "--mask", "emd3488_mask.mrc",
                                       "--resolution", "3.2", "--report", scratch.file("r")], in: data)
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try String(contentsOfFile: scratch.file("r/residues-map.csv"), encoding: .utf8).split(separator: "\n")
        #expect(rows.first == "chain,residue_number,insertion_code,residue_name,rscc,voxels")
        #expect(rows.count - 1 == 570)  // gemmi: 570 residues in model 1 of 5ME2
    }
}
