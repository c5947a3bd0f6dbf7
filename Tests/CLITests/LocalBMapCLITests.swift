import Foundation
import Testing
import LocScaleCore
import LocScaleHDF5

/// `scale --bfactor-map` (issue 14 item 3, docs/KERNEL.md §8): against the float64 numpy oracle
/// (Tests/Fixtures/make-bfactor-oracle.py, `bfactor_cli_cases.json`), the same bits for any rank
/// count, exact and fast mode, in the MRC file and HDF5 `/bfactor`, and its usage errors.
@Suite("scale --bfactor-map", .serialized)
struct LocalBMapCLITests {
    struct Case: Decodable {
        let em: String, model: String, mask: String
        let window: Int
        // swiftlint:disable:next identifier_name
        let guinier_from: Double
        let stride: Int
        let failed: Int
        let uncertain: [Int]
        let bfactors: [Double]
    }

    static let cases: [Case] = {
        struct File: Decodable { let cases: [Case] }
        let data = try! Data(contentsOf: URL(fileURLWithPath: CLITests.fixtures + "/bfactor_cli_cases.json"))
        return try! JSONDecoder().decode(File.self, from: data).cases
    }()

    /// The arguments of oracle case `index` (exact pad 1 for the first, fast mode for the second).
    static func arguments(_ index: Int) -> [String] {
        let c = cases[index]
        return ["--em", c.em, "--model-map", c.model, "--mask", c.mask, "--window", "\(c.window)",
                "--guinier-from", "\(c.guinier_from)", "--bfactor-stride", "\(c.stride)"]
            + (index == 0 ? ["--pad-factor", "1"] : ["--method", "fast"])
    }

    /// Exact pad 1 at stride 1 (em.mrc, origin) and fast mode at stride 2 (b_em.mrc, nstart).
    @Test("N ∈ {1, 2, 3, 4}: the oracle's B map, the same bits in the MRC and /bfactor, the input's geometry",
          arguments: [0, 1])
    func oracleOnRanks(index: Int) throws {
        let scratch = Scratch()
        let c = Self.cases[index]
        let input = try MRCFile.read(path: CLITests.fixtures + "/" + c.em).volume.grid
        var first: Data?
        for n in [1, 2, 3, 4] {
            let (b, h5) = (scratch.file("b\(n).mrc"), scratch.file("o\(n).h5"))
            let result = try SlabDataPathTests.scale(n, Self.arguments(index) + ["--hdf5", h5, "--bfactor-map", b])
            try #require(result.status == 0, "np \(n): \(result.stderr)")
            let masked = c.bfactors.filter { $0 != 0 }.count + c.failed
            let percent = formatDecimal(100 * Double(c.failed) / Double(masked), digits: 1)
            #expect(result.stderr.contains(
                "localscale: local B map: \(masked) voxels, \(c.failed) failed fits (\(percent) %) set to 0\n"),
                    "np \(n): \(result.stderr)")
            let map = try MRCFile.read(path: b).volume
            #expect(map.grid == input, "np \(n): geometry")
            let data = try CLITests.dataBytes(b)
            if let first { #expect(data == first, "np \(n): B map differs from 1 rank's") } else { first = data }
            let file = try HDF5Reader(path: h5)
            #expect(try file.floats("/bfactor").map(\.bitPattern) == map.values.map(\.bitPattern), "np \(n): /bfactor")
            #expect(try file.text(attribute: "units", of: "/bfactor") == "Å^2")
            #expect(try file.doubles(attribute: "stride", of: "/bfactor") == [Double(c.stride)])
            #expect(try file.doubles(attribute: "failed_fits", of: "/bfactor") == [Double(c.failed)])
            let range = try file.doubles(attribute: "guinier_range", of: "/bfactor")
            #expect(range.count == 2 && range[0] == c.guinier_from && range[1].isNaN)
            guard n == 1 else { continue }
            let uncertain = Set(c.uncertain)
            var worst = 0.0
            for i in c.bfactors.indices where !uncertain.contains(i) {
                worst = max(worst, abs(Double(map.values[i]) - c.bfactors[i]))
            }
            // Measured: 1.6e-5 Å² (exact), 1.1e-5 Å² (fast).
            #expect(worst < 1e-3, "largest |B − oracle| \(worst) Å²")
        }
    }

    @Test("one definition: exact pad 2 and fast mode give the same B map bits at the same stride; the default strides")
    func sameMapForEveryMethod() throws {
        let scratch = Scratch()
        let base = ["--em", "em.mrc", "--model-map", "model.mrc", "--mask", "mask.mrc", "--window", "8"]
        var maps: [Data] = []
        for (name, extra) in [("pad2", ["--pad-factor", "2", "--bfactor-stride", "4"]),
                              ("fast", ["--method", "fast", "--bfactor-stride", "4"]),
                              ("fastDefault", ["--method", "fast"])] {
            let b = scratch.file("\(name).mrc")
            let result = try SlabDataPathTests.scale(2, base + extra + ["--out", scratch.file("o.mrc"), "--bfactor-map", b])
            try #require(result.status == 0, "\(name): \(result.stderr)")
            maps.append(try CLITests.dataBytes(b))
        }
        #expect(maps[0] == maps[1] && maps[1] == maps[2])
        let exactDefault = scratch.file("exact.mrc"), stride2 = scratch.file("stride2.mrc")
        for (path, extra) in [(exactDefault, [String]()), (stride2, ["--bfactor-stride", "2"])] {
            let result = try SlabDataPathTests.scale(3, base + extra + ["--out", scratch.file("o.mrc"), "--bfactor-map", path])
            try #require(result.status == 0, "\(result.stderr)")
        }
        #expect(try CLITests.dataBytes(exactDefault) == CLITests.dataBytes(stride2))
        #expect(try CLITests.dataBytes(exactDefault) != maps[0])
    }

    @Test("without --bfactor-map nothing changes: the scaled map is the slab reference's bits with and without it")
    func outputsUnchanged() throws {
        let scratch = Scratch()
        let reference = try CLITests.dataBytes(CLITests.fixtures + "/slab_ref_exact_pad1.mrc")
        for n in [1, 3] {
            let out = scratch.file("o\(n).mrc")
            let result = try SlabDataPathTests.scale(n, SlabDataPathTests.cases["exact_pad1"]!
                + ["--out", out, "--bfactor-map", scratch.file("b.mrc"), "--bfactor-stride", "3"])
            try #require(result.status == 0, "\(result.stderr)")
            #expect(try CLITests.dataBytes(out) == reference, "np \(n)")
        }
    }

    @Test("--report: the local B section (histogram, three central slices) is the same for 1 and 3 ranks")
    func report() throws {
        let scratch = Scratch()
        var sections: [String] = []
        for n in [1, 3] {
            let result = try SlabDataPathTests.scale(n, Self.arguments(0) + [
                "--out", scratch.file("o.mrc"), "--bfactor-map", scratch.file("b.mrc"), "--report", scratch.file("r\(n)")])
            try #require(result.status == 0, "np \(n): \(result.stderr)")
            let html = try String(contentsOfFile: scratch.file("r\(n)/report.html"), encoding: .utf8)
            let start = try #require(html.range(of: "<h2>Local B map</h2>"), "np \(n): no local B section")
            let end = html[start.upperBound...].range(of: "<h2>")?.lowerBound ?? html.endIndex
            sections.append(String(html[start.lowerBound ..< end]))
        }
        let c = Self.cases[0], fitted = c.bfactors.filter { $0 != 0 }.count
        #expect(sections[0].contains("<p>\(fitted + c.failed) voxels, \(c.failed) failed fits"))
        #expect(sections[0].contains("Local B, \(fitted) fitted voxels"))
        for title in ["local B, x = 11", "local B, y = 9", "local B, z = 10"] { #expect(sections[0].contains(title)) }
        #expect(sections[0] == sections[1])
    }

    @Test("bad --guinier-from and --bfactor-stride: one usage line, exit 2")
    func badUsage() throws {
        let base = ["scale", "--em", "em.mrc", "--model-map", "model.mrc", "--mask", "mask.mrc", "--out", "/tmp/x.mrc"]
        let b = ["--bfactor-map", "/tmp/b.mrc"]
        let cases: [([String], String)] = [
            (b + ["--guinier-from", "0"], "--guinier-from 0: must be positive (Å)"),
            (b + ["--guinier-from=-5"], "--guinier-from -5: must be positive (Å)"),
            (b + ["--guinier-from", "2"],
             "--guinier-from 2: must be above the fit's high-resolution end, 2.4 Å (Nyquist of em.mrc)"),
            (["--guinier-from", "12"], "--guinier-from needs --bfactor-map"),
            (["--bfactor-stride", "2"], "--bfactor-stride needs --bfactor-map"),
            (b + ["--bfactor-stride", "0"], "--bfactor-stride 0: must be at least 1"),
        ]
        for (extra, line) in cases {
            let result = try CLITests.run(base + extra)
            #expect(result.status == 2, "\(extra)")
            #expect(result.stderr.hasPrefix("Error: \(line)\n"), "\(extra): \(result.stderr)")
        }
        let model = ["scale", "--em", "sim_grid.mrc", "--model", "../models/sim_small.pdb", "--mask", "none",
                     "--out", "/tmp/x.mrc"] + b
        let resolution = try CLITests.run(model + ["--resolution", "4", "--guinier-from", "4"])
        #expect(resolution.status == 2)
        #expect(resolution.stderr.hasPrefix(
            "Error: --guinier-from 4: must be above the fit's high-resolution end, 4 Å (--resolution)\n"),
                "\(resolution.stderr)")
    }

    @Test("EMD-3488 (solvent masked to zero): a B map without noise correction, and the run says so",
          .enabled(if: ProcessInfo.processInfo.environment["LOCALSCALE_TESTDATA"] != nil))
    func zeroedSolvent() throws {
        let scratch = Scratch()
        let result = try CLITests.run(["scale", "--em", "emd_3488.mrc", "--model-map", "emd3488_model.mrc",
                                       "--mask", "emd3488_mask.mrc", "--method", "fast", "--out", scratch.file("o.mrc"),
                                       "--bfactor-map", scratch.file("b.mrc"), "--fft-planning", "estimate"],
                                      in: RealDataTests.data)
        try #require(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("localscale: local B map: no noise correction: 28.3 % of its noise region is "
                                       + "exactly 0 (solvent masked to zero) in emd_3488.mrc\n"), "\(result.stderr)")
        let b = try MRCFile.read(path: scratch.file("b.mrc")).volume.values
        let mask = try MRCFile.read(path: RealDataTests.data + "/emd3488_mask.mrc").volume.values
        let finiteAndZeroOutside = b.allSatisfy { $0.isFinite } && mask.indices.allSatisfy { mask[$0] >= 0.5 || b[$0] == 0 }
        #expect(finiteAndZeroOutside)
        let inside = mask.indices.filter { mask[$0] >= 0.5 && b[$0] != 0 }.map { Double(b[$0]) }
        let mean = inside.reduce(0, +) / Double(inside.count)
        // Measured (library, stride 1): B 137 ± 15 Å², no failed fits.
        #expect(mean > 100 && mean < 170, "mean B \(mean)")
    }

    /// `--compat locscale2`: LocScale 2's own local B (`LocScale2LocalBFactorMap`), the same bytes on 1 and 3
    /// ranks and LocScale 2.4.1's values (`ls2b_cases.json` case 1: box 12 = window 11 rounded up, 10 Å to
    /// Nyquist) at the oracle's centres that the locscale2 rule scales (its edge crop leaves the others 0).
    @Test("--compat locscale2: LocScale 2.4.1's local B at its oracle's centres, 1 and 3 ranks the same bytes")
    func locScale2Definition() throws {
        struct Oracle: Decodable { let window: Int; let centres_zyx: [[Int]]; let bfactors: [Double?] }
        struct File: Decodable { let cases: [Oracle] }
        let data = try Data(contentsOf: URL(fileURLWithPath: CLITests.fixtures + "/ls2b_cases.json"))
        let oracle = try JSONDecoder().decode(File.self, from: data).cases[1]
        #expect(oracle.window == 11)
        let scratch = Scratch()
        var first: Data?
        for n in [1, 3] {
            let b = scratch.file("b\(n).mrc")
            let result = try SlabDataPathTests.scale(n, [
                "--em", "ls2b_em.mrc", "--model-map", "ls2b_em.mrc", "--mask", "none", "--compat", "locscale2",
                "--window", "12", "--out", scratch.file("o\(n).mrc"), "--bfactor-map", b])
            try #require(result.status == 0, "np \(n): \(result.stderr)")
            #expect(result.stderr.contains("local B map: LocScale 2's definition (emmer get_local_bfactor_emmap, "
                                           + "Wilson cutoff 10 Å): no noise correction, every voxel fitted\n"))
            let bytes = try CLITests.dataBytes(b)
            if let first { #expect(bytes == first, "np \(n): B map differs from 1 rank's") } else { first = bytes }
        }
        let map = try MRCFile.read(path: scratch.file("b1.mrc")).volume
        let s = map.grid.shape
        var compared = 0
        for (centre, expected) in zip(oracle.centres_zyx, oracle.bfactors) {
            let value = Double(map.values[(centre[0] * s.y + centre[1]) * s.x + centre[2]])
            guard value != 0, let expected else { continue }
            #expect(abs(value - expected) <= 1e-4 * abs(expected), "centre \(centre): \(value) against \(expected)")
            compared += 1
        }
        #expect(compared >= 10, "only \(compared) centres compared")
    }

    @Test("--compat locscale2 refuses --bfactor-stride: LocScale 2's local B fits every voxel")
    func locScale2Stride() throws {
        let result = try CLITests.run(["scale", "--em", "em.mrc", "--model-map", "model.mrc", "--mask", "mask.mrc",
                                       "--compat", "locscale2", "--out", "/tmp/x.mrc", "--bfactor-map", "/tmp/b.mrc",
                                       "--bfactor-stride", "2"])
        #expect(result.status == 2)
        #expect(result.stderr.contains(
            "--bfactor-stride: LocScale 2's local B (--compat locscale2) fits every voxel"), "\(result.stderr)")
    }
}
