import Foundation
import Testing
import LocScaleCore

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

    /// summary.json without the "ranks" parameter (the one line that names the rank count).
    static func summaryWithoutRanks(_ directory: String) throws -> String {
        try String(contentsOfFile: directory + "/summary.json", encoding: .utf8).split(separator: "\n")
            .filter { !$0.contains("\"ranks\"") }.joined(separator: "\n")
    }

    @Test("validate on 1, 2, 3 and 4 ranks writes the same summary.json and CSV files, byte for byte",
          arguments: [
              ["--map", "val_b.mrc", "--model-map", "val_a.mrc", "--mask", "val_mask.mrc",
               "--half-maps", "val_half1.mrc", "val_half2.mrc"],
              ["--map", "sim_expected_nyquist.mrc", "--model", "../models/sim_small.pdb", "--resolution", "2"],
          ])
    func sameReportForEveryRankCount(inputs: [String]) throws {
        let scratch = Scratch()
        var reference: (summary: String, csv: [Data])?
        for n in [1, 2, 3, 4] {
            let directory = scratch.file("np\(n)")
            let result = try MPITests.mpirun(n, ["validate"] + inputs + ["--threads", "1", "--report", directory])
            #expect(result.status == 0, "np \(n): \(result.stderr)")
            let csvNames = inputs.contains("--model") ? ["fsc-map.csv", "residues-map.csv"] : ["fsc-map.csv"]
            let summary = try Self.summaryWithoutRanks(directory)
            let csv = try csvNames.map { try Data(contentsOf: URL(fileURLWithPath: directory + "/" + $0)) }
            #expect(summary.contains("rscc_mask"))
            if let reference {
                #expect(summary == reference.summary, "np \(n)")
                #expect(csv == reference.csv, "np \(n)")
            } else {
                reference = (summary, csv)
            }
        }
    }

    @Test("a NaN in the last plane of the model map: one line naming it and exit 1 from 1, 2 and 3 ranks, no report")
    func nanInLastSlab() throws {
        let scratch = Scratch()
        var model = try MRCFile.read(path: CLITests.fixtures + "/val_a.mrc").volume
        let s = model.grid.shape
        model.values[model.grid.index(x: 3, y: s.y - 2, z: s.z - 1)] = .nan
        let path = scratch.file("nan_model.mrc")
        try MRCFile.write(model, to: path, labels: [])
        for n in [1, 2, 3] {
            let directory = scratch.file("r\(n)")
            let result = try MPITests.mpirun(n, ["validate", "--map", "val_b.mrc", "--model-map", path,
                                                 "--mask", "val_mask.mrc", "--report", directory])
            #expect(result.status == 1, "np \(n)")
            let lines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("localscale:") }
            #expect(lines == ["localscale: error: \(path): nan at voxel (x, y, z) = (3, \(s.y - 2), \(s.z - 1)); "
                              + "maps must be finite"], "np \(n): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: directory))
        }
    }

    @Test("a model map cut short in its last plane: main's one line and exit 1 from 1, 2 and 3 ranks, no report")
    func truncatedInLastSlab() throws {
        let scratch = Scratch()
        let path = scratch.file("short_model.mrc")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: CLITests.fixtures + "/val_a.mrc"))
        try bytes.dropLast(100).write(to: URL(fileURLWithPath: path))
        for n in [1, 2, 3] {
            let directory = scratch.file("r\(n)")
            let result = try MPITests.mpirun(n, ["validate", "--map", "val_b.mrc", "--model-map", path,
                                                 "--report", directory])
            #expect(result.status == 1, "np \(n)")
            let lines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("localscale:") }
            #expect(lines == ["localscale: error: \(path): data truncated: the header promises 53760 bytes of data, "
                              + "the file holds 53660"], "np \(n): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: directory))
        }
    }

    @Test("scale --report puts the per-residue RSCC before and after side by side, largest change first")
    func residueChangesInScaleReport() throws {
        let scratch = Scratch()
        let result = try CLITests.run(["scale", "--em", "sim_expected_nyquist.mrc", "--mask", "none",
                                       "--model", "../models/sim_small.pdb", "--resolution", "2", "--window", "8",
                                       "--out", scratch.file("out.mrc"),
                                       "--report", scratch.file("r")])
        #expect(result.status == 0, "\(result.stderr)")
        let residues = try String(contentsOfFile: scratch.file("r/residues-input.csv"), encoding: .utf8)
            .split(separator: "\n").count - 1
        let html = try String(contentsOfFile: scratch.file("r/report.html"), encoding: .utf8)
        let shown = min(15, residues)
        let heading = "<h2>Per-residue RSCC, input and output: the \(shown) residues that change most</h2>"
        #expect(html.contains(heading))
        let table = html.components(separatedBy: heading).last!.components(separatedBy: "</table>")[0]
        let rows = table.components(separatedBy: "<tr><td>").dropFirst().map {
            $0.components(separatedBy: "</td><td>").map { $0.replacingOccurrences(of: "</td></tr>", with: "") }
        }
        #expect(rows.count == shown)
        let changes = rows.map { Double($0[5])! }
        #expect(zip(changes, changes.dropFirst()).allSatisfy { abs($0) >= abs($1) })
        #expect(rows.allSatisfy { abs(Double($0[4])! - Double($0[3])! - Double($0[5])!) <= 0.0015 })
    }
}
