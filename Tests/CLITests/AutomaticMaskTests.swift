import Foundation
import Testing
import TestSupport
import LocScaleCore
import LocScaleHDF5

/// `scale` without `--mask`: the FDR confidence mask of `confidence --mask-out` grown by 6 Å (5 voxels
/// of the fixture's 1.2 Å), used as if given with `--mask`; `--mask none` as `scale` was before
/// (every voxel); refusals and usage errors.
@Suite("scale's automatic mask", .serialized)
struct AutomaticMaskTests {
    static let base = ["scale", "--em", "em.mrc", "--model-map", "model.mrc", "--window", "8",
                       "--fft-planning", "estimate"]

    @Test("--mask none writes the map scale wrote without --mask before the automatic mask (exact, fast)",
          arguments: [("nomask_exact_w8_pad1.mrc", ["--pad-factor", "1"]), ("nomask_fast_w8.mrc", ["--method", "fast"])])
    func noneKeepsEveryVoxel(expected: String, options: [String]) throws {
        let scratch = Scratch()
        let result = try CLITests.run(Self.base + ["--mask", "none", "--out", scratch.file("out.mrc")] + options)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains("automatic mask"))
        #expect(result.stderr.contains("localscale: scaling 7920 voxels: window 8"))
        #expect(try CLITests.dataBytes(scratch.file("out.mrc")) == CLITests.dataBytes(CLITests.fixtures + "/" + expected))
    }

    /// `confidence --mask-out`'s mask grown by 6 Å (`BallDilation`, tested against a direct search).
    static func grown(_ confidenceMask: String) throws -> [Float] {
        let mask = try MRCFile.read(path: confidenceMask).volume
        let z = mask.grid.shape.z
        return BallDilation(radius: 5).grow(mask.values, held: 0..<z, shape: mask.grid.shape, planes: 0..<z)
    }

    @Test("the automatic mask is confidence --mask-out's grown by 6 Å, and the map is scale --mask with it")
    func equalsConfidenceMask() throws {
        let scratch = Scratch()
        let auto = try CLITests.run(Self.base + ["--out", scratch.file("auto.mrc"), "--hdf5", scratch.file("auto.h5"),
                                                 "--mask-out", scratch.file("auto_mask.mrc")])
        #expect(auto.status == 0, "\(auto.stderr)")
        #expect(auto.stderr.hasPrefix("""
            localscale: automatic mask from the FDR confidence map of em.mrc: FDR 1 %, 16 % of the box \
            (1265 voxels), grown by 6 Å to 78.7 % (6232 voxels); give --mask none to scale every voxel
            localscale: scaling 6232 voxels:
            """))
        let confidence = try CLITests.run(["confidence", "--em", "em.mrc", "--out", scratch.file("c.mrc"),
                                           "--mask-out", scratch.file("c_mask.mrc")])
        #expect(confidence.status == 0, "\(confidence.stderr)")
        let mask = try MRCFile.read(path: scratch.file("auto_mask.mrc"))
        #expect(mask.volume.values == (try Self.grown(scratch.file("c_mask.mrc"))))
        #expect(try mask.volume.grid == MRCFile.read(path: CLITests.fixtures + "/em.mrc").volume.grid)
        #expect(mask.volume.values.filter { $0 == 1 }.count == 6232)
        #expect(mask.volume.values.allSatisfy { $0 == 0 || $0 == 1 })

        let given = try CLITests.run(Self.base + ["--mask", scratch.file("auto_mask.mrc"),
                                                  "--out", scratch.file("given.mrc")])
        #expect(given.status == 0, "\(given.stderr)")
        #expect(try CLITests.dataBytes(scratch.file("auto.mrc")) == CLITests.dataBytes(scratch.file("given.mrc")))
        let hdf5 = try HDF5Reader(path: scratch.file("auto.h5"))
        #expect(try hdf5.shape(of: "/mask") == [20, 18, 22])
        #expect(try hdf5.floats("/mask") == mask.volume.values)
        #expect(try hdf5.floats("/map") == MRCFile.read(path: scratch.file("auto.mrc")).volume.values)
        // Nothing else is left next to the outputs (the temporary mask file is gone).
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted()
                == ["auto.h5", "auto.mrc", "auto_mask.mrc", "c.mrc", "c_mask.mrc", "given.mrc"])
    }

    @Test("without --mask-out the mask file is temporary, the HDF5 file still gets /mask, --mask none has no /mask")
    func temporaryMaskFile() throws {
        let scratch = Scratch()
        let auto = try CLITests.run(Self.base + ["--out", scratch.file("o.mrc"), "--hdf5", scratch.file("o.h5"), "-q"])
        #expect(auto.status == 0, "\(auto.stderr)")
        #expect(auto.stderr.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted() == ["o.h5", "o.mrc"])
        #expect(try HDF5Reader(path: scratch.file("o.h5")).floats("/mask").filter { $0 == 1 }.count == 6232)
        let none = try CLITests.run(Self.base + ["--mask", "none", "--hdf5", scratch.file("n.h5")])
        #expect(none.status == 0, "\(none.stderr)")
        #expect(throws: HDF5Error.self) { try HDF5Reader(path: scratch.file("n.h5")).floats("/mask") }
    }

    @Test("half maps: the grown mask of their average, as LocScale 2 (and confidence --half-maps) makes it")
    func halfMaps() throws {
        let scratch = Scratch()
        let em = try MRCFile.read(path: CLITests.fixtures + "/em.mrc").volume
        var generator = SplitMix64(seed: 5)
        let noise = em.values.map { _ in Float(Double(generator.next() % 1000) / 1000 - 0.5) * 0.004 }
        for (name, sign) in [("h1.mrc", Float(1)), ("h2.mrc", Float(-1))] {
            var half = em
            half.values = zip(em.values, noise).map { $0 + sign * $1 }
            try MRCFile.write(half, to: scratch.file(name), labels: [])
        }
        let auto = try CLITests.run(["scale", "--half-maps", scratch.file("h1.mrc"), scratch.file("h2.mrc"),
                                     "--model-map", "model.mrc", "--window", "8", "--fft-planning", "estimate",
                                     "--out", scratch.file("o.mrc"), "--mask-out", scratch.file("m.mrc")])
        #expect(auto.status == 0, "\(auto.stderr)")
        let confidence = try CLITests.run(["confidence", "--half-maps", scratch.file("h1.mrc"), scratch.file("h2.mrc"),
                                           "--out", scratch.file("c.mrc"), "--mask-out", scratch.file("cm.mrc")])
        #expect(confidence.status == 0, "\(confidence.stderr)")
        #expect(try MRCFile.read(path: scratch.file("m.mrc")).volume.values == Self.grown(scratch.file("cm.mrc")))
        #expect(try MRCFile.read(path: scratch.file("m.mrc")).volume.values.contains(1))
    }

    @Test("--mask-out is committed with the other outputs: a rank killed before the commit leaves none of them")
    func maskOutCommittedTogether() throws {
        let scratch = Scratch()
        let killed = try MPITests.mpirun(2, Self.base + ["--threads", "1", "--out", scratch.file("o.mrc"),
                                                         "--hdf5", scratch.file("o.h5"), "--mask-out", scratch.file("m.mrc")],
                                         environment: ["LOCALSCALE_TEST_KILL_RANK": "1", "LOCALSCALE_TEST_KILL_AT": "write"])
        #expect(killed.status != 0 && killed.stderr.contains("rank 1 exits"), "\(killed.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.path)
        #expect(!left.contains("m.mrc") && !left.contains("o.mrc") && !left.contains("o.h5"), "\(left)")
    }

    @Test("N = 1, 2, 3 ranks: the same mask, map and HDF5 /mask bit for bit")
    func ranks() throws {
        let scratch = Scratch()
        for n in [1, 2, 3] {
            let result = try MPITests.mpirun(n, Self.base + ["--threads", "1", "--fftw-wisdom", scratch.file("wisdom"),
                                                              "--out", scratch.file("np\(n).mrc"),
                                                              "--hdf5", scratch.file("np\(n).h5"),
                                                              "--mask-out", scratch.file("mask\(n).mrc")])
            #expect(result.status == 0, "np \(n): \(result.stderr)")
        }
        for n in [2, 3] {
            #expect(try CLITests.dataBytes(scratch.file("np\(n).mrc")) == CLITests.dataBytes(scratch.file("np1.mrc")))
            #expect(try CLITests.dataBytes(scratch.file("mask\(n).mrc")) == CLITests.dataBytes(scratch.file("mask1.mrc")))
            #expect(try HDF5Reader(path: scratch.file("np\(n).h5")).floats("/mask")
                    == MRCFile.read(path: scratch.file("mask1.mrc")).volume.values)
        }
        #expect(try MRCFile.read(path: scratch.file("mask1.mrc")).volume.values.filter { $0 == 1 }.count == 6232)
    }

    @Test("a map whose particle reaches the noise region: the confidence refusal and the advice, one line, exit 1")
    func particleAtTheEdge() throws {
        let scratch = Scratch()
        for n in [1, 2] {
            let result = try MPITests.mpirun(n, ["scale", "--em", "conf_edge.mrc", "--model-map", "conf_edge.mrc",
                                                 "--out", scratch.file("o.mrc"), "--mask-out", scratch.file("m.mrc")])
            #expect(result.status == 1)
            let lines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("localscale") }
            #expect(lines.count == 1, "np \(n): \(result.stderr)")
            #expect(lines.first?.hasPrefix("localscale: error: conf_edge.mrc: the particle reaches the noise region") == true)
            #expect(lines.first?.hasSuffix("; give --mask MASK.mrc or --mask none") == true)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
    }

    @Test("EMD-3488 (masked to zero outside the particle) without --mask: the exact refusal line, exit 1",
          .enabled(if: ProcessInfo.processInfo.environment["LOCALSCALE_TESTDATA"] != nil))
    func emd3488() throws {
        let scratch = Scratch()
        let out = scratch.file("out.mrc")
        try Data("previous good output".utf8).write(to: URL(fileURLWithPath: out))
        let result = try CLITests.launch(CLITests.binary, ["scale", "--em", "emd_3488.mrc", "--model-map",
                                                           "emd3488_model.mrc", "--out", out],
                                         in: RealDataTests.data)
        #expect(result.status == 1)
        #expect(result.stderr == """
            localscale: error: emd_3488.mrc: the map looks masked to zero outside the particle: 28.3 % of the noise \
            region (4 cubes of 10³ voxels at the y and x edges of z planes 45–54) is exactly 0 (expected under 5 %); \
            the FDR confidence map needs the unmasked map; give --mask MASK.mrc or --mask none

            """)
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "previous good output")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["out.mrc"])
    }

    @Test("usage errors of --mask, --fdr and --mask-out (exit 2)")
    func usage() throws {
        let out = ["--out", "/tmp/x.mrc"]
        let cases: [([String], String)] = [
            (["--fdr", "0"], "Error: --fdr must lie in (0, 1) (found 0.0)"),
            (["--fdr", "1"], "Error: --fdr must lie in (0, 1) (found 1.0)"),
            (["--mask", "mask.mrc", "--mask-out", "/tmp/m.mrc"],
             "Error: --mask-out is for the automatic mask: it cannot go with --mask mask.mrc"),
            (["--mask", "none", "--mask-out", "/tmp/m.mrc"],
             "Error: --mask-out is for the automatic mask: it cannot go with --mask none"),
            (["--mask", "none", "--fdr", "0.05"], "Error: --fdr is for the automatic mask: it cannot go with --mask none"),
            (["--mask-out", "/tmp/x.mrc"], "Error: --mask-out /tmp/x.mrc is the same file as --out /tmp/x.mrc"),
            (["--mask-out", "em.mrc"],
             "Error: --mask-out em.mrc is the same file as --em em.mrc: refusing to overwrite an input"),
        ]
        for (options, line) in cases {
            let result = try CLITests.run(Self.base + out + options)
            #expect(result.status == 2, "\(options)")
            #expect(result.stderr.hasPrefix(line + "\n"), "\(options): \(result.stderr)")
        }
        let help = try CLITests.run(["scale", "--help"])
        #expect(help.stdout.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "  ", with: "")
                    .contains("grown by 6 Å, so that the weaker periphery next to the confident core is scaled too"))
    }
}
