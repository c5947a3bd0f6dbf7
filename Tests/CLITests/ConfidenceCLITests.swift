import Foundation
import Testing
import TestSupport
import LocScaleCore

/// `localscale confidence`: the numpy oracle of our definition (Tests/Fixtures/make-confidence-oracle.py),
/// LocScale 2.4.1's own output on the same map, N ranks bit for bit, refusals and usage errors.
@Suite("localscale confidence", .serialized)
struct ConfidenceCLITests {
    static let fixtures = CLITests.fixtures

    static func read(_ name: String) throws -> MRCMap { try MRCFile.read(path: name) }

    /// The refusal figures the oracle computed.
    static func cases() throws -> [String: Double] {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixtures + "/conf_cases.json"))
        return try JSONDecoder().decode([String: Double].self, from: data)
    }

    @Test("matches the float64 oracle (non-cubic, origin and nstart) at the default and at window 6, FDR 5 %",
          arguments: [("w4", [String]()), ("w6_fdr5", ["--window", "6", "--fdr", "0.05"])])
    func matchesOracle(name: String, options: [String]) throws {
        let scratch = Scratch()
        let result = try CLITests.run(["confidence", "--em", "conf_em.mrc", "--out", scratch.file("c.mrc"),
                                       "--mask-out", scratch.file("m.mrc")] + options)
        #expect(result.status == 0, "\(result.stderr)")
        let output = try Self.read(scratch.file("c.mrc")), mask = try Self.read(scratch.file("m.mrc"))
        let expected = try Self.read(Self.fixtures + "/conf_expected_\(name).mrc")
        let expectedMask = try Self.read(Self.fixtures + "/conf_expected_\(name)_mask.mrc")
        #expect(output.volume.grid == expected.volume.grid)
        #expect(output.header.origin == XYZ(12.5, -7.25, 30.0))
        #expect(output.volume.grid.start == XYZ(-3, 5, 2))
        let largest = zip(output.volume.values, expected.volume.values).map { abs($0 - $1) }.max()!
        #expect(largest <= 1e-6)
        #expect(relativeRMS(output.volume.values, expected.volume.values) <= 1e-6)
        #expect(mask.volume.values == expectedMask.volume.values)
        #expect(expectedMask.volume.values.contains(1))
        // Confidences strictly between 0 and the mask level are checked too, not only 0 and 1.
        #expect(expected.volume.values.filter { $0 > 0.01 && $0 < 0.9 }.count > 50)
    }

    @Test("matches LocScale 2.4.1's run_FDR on the same map (benchmarks/reference/ls2-confidence.py)")
    func matchesLocScale2() throws {
        let scratch = Scratch()
        let result = try CLITests.run(["confidence", "--em", "conf_em.mrc", "--out", scratch.file("c.mrc"),
                                       "--mask-out", scratch.file("m.mrc")])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try Self.read(scratch.file("c.mrc")).volume.values
        let reference = try Self.read(Self.fixtures + "/conf_ls2_confidence.mrc").volume.values
        #expect(relativeRMS(output, reference) <= 1e-4)
        let mask = try Self.read(scratch.file("m.mrc")).volume.values
        let referenceMask = try Self.read(Self.fixtures + "/conf_ls2_mask.mrc").volume.values
        #expect(mask == referenceMask)
        #expect(result.stdout.hasSuffix(" s\n"))
        #expect(result.stdout.hasPrefix("""
            noise: mean 0.435267, sd 1.049548 over 4 cubes of 4³ voxels at the y and x edges of z planes 12–15
            FDR 1 % (Benjamini–Yekutieli): 34 of 9048 tested voxels have confidence ≥ 0.99 (0.25 % of the box);
            """))
    }

    @Test("two identical half maps give the map's confidence, bit for bit")
    func halfMaps() throws {
        let scratch = Scratch()
        for arguments in [["--em", "conf_em.mrc"], ["--half-maps", "conf_em.mrc", "conf_em.mrc"]] {
            let result = try CLITests.run(["confidence"] + arguments
                                          + ["--out", scratch.file("c\(arguments.count).mrc")])
            #expect(result.status == 0, "\(result.stderr)")
        }
        #expect(try CLITests.dataBytes(scratch.file("c2.mrc")) == CLITests.dataBytes(scratch.file("c3.mrc")))
    }

    @Test("half maps: a non-finite average (two halves near 3e38) or half, and other voxel sizes, one line, exit 1")
    func badHalfMaps() throws {
        let scratch = Scratch()
        let map = try MRCFile.read(path: Self.fixtures + "/conf_em.mrc").volume
        let shape = map.grid.shape
        let index = (5 * shape.y + 4) * shape.x + 3
        func write(_ name: String, _ change: (inout Volume) -> Void) throws -> String {
            var volume = map
            change(&volume)
            try MRCFile.write(volume, to: scratch.file(name), labels: [])
            return scratch.file(name)
        }
        let high1 = try write("high1.mrc") { $0.values[index] = 3e38 }
        let high2 = try write("high2.mrc") { $0.values[index] = 2.9e38 }
        let plain = try write("plain.mrc") { _ in }
        let nan = try write("nan.mrc") { $0.values[index + 2] = .nan }
        let coarse = try write("coarse.mrc") { $0.grid.voxelSize = XYZ(2, 2, 2) }
        let cases: [([String], String)] = [
            ([high1, high2],
             "\(high1) + \(high2): their average is inf at voxel (x, y, z) = (3, 4, 5); maps must be finite"),
            ([plain, nan], "\(nan): nan at voxel (x, y, z) = (5, 4, 5); maps must be finite"),
        ]
        for (halves, line) in cases {
            // `confidence`, `scale`'s automatic mask (ConfidenceMask.read) and `scale --mask none` (SlabMaps).
            let scale = ["scale", "--model-map", "conf_em.mrc", "--window", "8", "--out", scratch.file("o.mrc")]
            for command in [["confidence", "--out", scratch.file("c.mrc")], scale, scale + ["--mask", "none"]] {
                for n in [1, 2] {
                    let result = try MPITests.mpirun(n, command + ["--half-maps"] + halves)
                    #expect(result.status == 1)
                    let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("localscale: error") }
                    #expect(errors == [Substring("localscale: error: \(line)")], "np \(n) \(command): \(result.stderr)")
                }
            }
        }
        let sizes = try CLITests.run(["confidence", "--half-maps", plain, coarse, "--out", scratch.file("c.mrc")])
        #expect(sizes.status == 1)
        #expect(sizes.stderr.hasPrefix("localscale: error: \(coarse): voxel size 2×2×2 Å differs from \(plain)'s "))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted()
                == ["coarse.mrc", "high1.mrc", "high2.mrc", "nan.mrc", "plain.mrc"])
    }

    @Test("refuses a map masked to zero outside the particle and one whose particle reaches the noise region")
    func refusals() throws {
        let scratch = Scratch()
        let cases = try Self.cases()
        let region = "4 cubes of 4³ voxels at the y and x edges of z planes 12–15"
        let zeros = formatDecimal(cases["masked_zero_percent"]!, digits: 1)
        let ratio = formatDecimal(cases["edge_variance_ratio"]!, digits: 2)
        let expected = [
            ("conf_masked.mrc", "conf_masked.mrc: the map looks masked to zero outside the particle: \(zeros) % of "
                + "the noise region (\(region)) is exactly 0 (expected under 5 %); the FDR confidence map needs "
                + "the unmasked map"),
            ("conf_edge.mrc", "conf_edge.mrc: the particle reaches the noise region: its variance (\(region)) is "
                + "\(ratio) × that of the box corners (expected under 2); the confidence map needs noise at the "
                + "box edges"),
        ]
        for (map, line) in expected {
            let result = try CLITests.run(["confidence", "--em", map, "--out", scratch.file("c.mrc")])
            #expect(result.status == 1)
            #expect(result.stderr == "localscale: error: \(line)\n")
            #expect(!FileManager.default.fileExists(atPath: scratch.file("c.mrc")))
        }
    }

    @Test("refuses EMD-3488, whose solvent is zeroed (71 % of its voxels are exactly 0)",
          .enabled(if: ProcessInfo.processInfo.environment["LOCALSCALE_TESTDATA"] != nil))
    func refusesEMD3488() throws {
        let scratch = Scratch()
        let result = try CLITests.run(["confidence", "--em", "emd_3488.mrc", "--out", scratch.file("c.mrc")],
                                      in: RealDataTests.data)
        #expect(result.status == 1)
        #expect(result.stderr == """
            localscale: error: emd_3488.mrc: the map looks masked to zero outside the particle: 28.3 % of the \
            noise region (4 cubes of 10³ voxels at the y and x edges of z planes 45–54) is exactly 0 (expected \
            under 5 %); the FDR confidence map needs the unmasked map

            """)
    }

    @Test("usage errors exit 2 with one line; a window too large for the map exits 1 naming it")
    func usageErrors() throws {
        let scratch = Scratch()
        let out = scratch.file("c.mrc")
        let usage: [([String], String)] = [
            (["--out", out], "Error: give either --em MAP.mrc or --half-maps HALF1.mrc HALF2.mrc"),
            (["--em", "conf_em.mrc", "--half-maps", "a.mrc", "b.mrc", "--out", out],
             "Error: give either --em MAP.mrc or --half-maps HALF1.mrc HALF2.mrc"),
            (["--em", "conf_em.mrc", "--out", out, "--fdr", "0"], "Error: --fdr must lie in (0, 1) (found 0.0)"),
            (["--em", "conf_em.mrc", "--out", out, "--window", "1"],
             "Error: --window must be at least 2 voxels (found 1)"),
            (["--em", "conf_em.mrc", "--out", "conf_em.mrc"],
             "Error: --out conf_em.mrc is the same file as --em conf_em.mrc: refusing to overwrite an input"),
            (["--em", "conf_em.mrc", "--out", out, "--mask-out", out],
             "Error: --mask-out \(out) is the same file as --out \(out)"),
        ]
        for (arguments, line) in usage {
            let result = try CLITests.run(["confidence"] + arguments)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr.hasPrefix(line + "\n"), "\(result.stderr)")
        }
        let help = try CLITests.run(["confidence", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("noise region — four cubes of --window"))
        #expect(help.stdout.contains("The noise region is wrong when the particle reaches the y or x edges"))
        let shapes = try CLITests.run(["confidence", "--half-maps", "conf_em.mrc", "em.mrc", "--out", out])
        #expect(shapes.status == 1)
        #expect(shapes.stderr == "localscale: error: em.mrc: shape 22×18×20 voxels differs from conf_em.mrc's "
                + "24×20×28 voxels\n")
        let large = try CLITests.run(["confidence", "--em", "conf_em.mrc", "--out", out, "--window", "20"])
        #expect(large.status == 1)
        #expect(large.stderr == "localscale: error: conf_em.mrc: the noise cubes do not fit the 24×20×28 map "
                + "(found --window 20, expected at most 19)\n")
    }

    @Test("N ∈ {1, 2, 3, 4} ranks write the 1-rank confidence map and mask bit for bit; refusals agree")
    func sameForEveryRankCount() throws {
        let scratch = Scratch()
        var reference: (Data, Data)?
        for n in [1, 2, 3, 4] {
            let (c, m) = (scratch.file("c\(n).mrc"), scratch.file("m\(n).mrc"))
            let result = try MPITests.mpirun(n, ["confidence", "--em", "conf_em.mrc", "--out", c, "--mask-out", m])
            #expect(result.status == 0, "\(n) ranks: \(result.stderr)")
            let files = (try Data(contentsOf: URL(fileURLWithPath: c)), try Data(contentsOf: URL(fileURLWithPath: m)))
            if let reference {
                #expect(files.0 == reference.0 && files.1 == reference.1, "\(n) ranks")
            } else {
                reference = files
            }
            let refused = try MPITests.mpirun(n, ["confidence", "--em", "conf_edge.mrc", "--out", c + "x"])
            #expect(refused.status == 1)
            #expect(refused.stderr.hasPrefix("localscale: error: conf_edge.mrc: the particle reaches the noise region"))
            #expect(refused.stderr.components(separatedBy: "localscale: error:").count == 2, "once: \(refused.stderr)")
        }
        let single = try CLITests.run(["confidence", "--em", "conf_em.mrc", "--out", scratch.file("s.mrc")])
        #expect(single.status == 0)
        #expect(try CLITests.dataBytes(scratch.file("s.mrc")) == CLITests.dataBytes(scratch.file("c1.mrc")))
    }
}
