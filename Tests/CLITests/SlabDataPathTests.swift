import Foundation
import Testing
import LocScaleCore
import LocScaleHDF5

/// `scale`'s data path by slabs under mpirun (ARCHITECTURE §3): every rank reads its own planes
/// and writes its own planes, yet the outputs are the bits one process wrote before the slab
/// data path (`slab_ref_*.mrc`: written by the binary of commit 3ef8d9c, one rank, FFTW_ESTIMATE
/// plans, one thread; see Tests/Fixtures/README.md).
@Suite("scale by slabs under mpirun", .serialized)
struct SlabDataPathTests {
    static let ranks = [1, 2, 3, 4, 8]

    /// The reference outputs and the arguments that made them.
    static let cases: [String: [String]] = [
        "exact_pad1": ["--em", "em.mrc", "--model-map", "model.mrc", "--mask", "mask.mrc", "--window", "8",
                       "--pad-factor", "1"],
        "exact_pad2": ["--em", "em.mrc", "--model-map", "model.mrc", "--mask", "mask.mrc", "--window", "8",
                       "--pad-factor", "2"],
        "locscale2": ["--em", "em.mrc", "--model-map", "model.mrc", "--mask", "mask.mrc", "--window", "8",
                      "--compat", "locscale2"],
        "fast": ["--em", "em.mrc", "--model-map", "model.mrc", "--mask", "mask.mrc", "--window", "8",
                 "--method", "fast"],
        "halfmaps": ["--half-maps", "val_half1.mrc", "val_half2.mrc", "--model-map", "val_a.mrc",
                     "--mask", "val_mask.mrc", "--window", "8", "--pad-factor", "1"],
        "model": ["--em", "sim_grid.mrc", "--model", "../models/sim_small.pdb", "--resolution", "2",
                  "--mask", "none", "--window", "8", "--pad-factor", "1"],
    ]

    static func scale(_ ranks: Int, _ arguments: [String], environment: [String: String] = [:]) throws -> CLITests.Result {
        try MPITests.mpirun(ranks, ["scale", "--threads", "1", "--fft-planning", "estimate"] + arguments,
                            environment: environment)
    }

    @Test("N ∈ {1, 2, 3, 4, 8}: the MRC data and HDF5 /map are the reference's bits; /timing has bytes per rank",
          arguments: ["exact_pad1", "exact_pad2", "locscale2", "fast", "halfmaps", "model"])
    func sameBitsAsOneProcess(name: String) throws {
        let scratch = Scratch()
        let reference = try MRCFile.read(path: CLITests.fixtures + "/slab_ref_\(name).mrc")
        let referenceData = try CLITests.dataBytes(CLITests.fixtures + "/slab_ref_\(name).mrc")
        for n in Self.ranks {
            let (out, h5) = (scratch.file("np\(n).mrc"), scratch.file("np\(n).h5"))
            let result = try Self.scale(n, Self.cases[name]! + ["--out", out, "--hdf5", h5])
            #expect(result.status == 0, "\(name) np \(n): \(result.stderr)")
            #expect(try CLITests.dataBytes(out) == referenceData, "\(name) np \(n): MRC data differs")
            let written = try MRCFile.read(path: out)
            #expect(written.header.dmin == reference.header.dmin && written.header.dmax == reference.header.dmax
                    && written.header.dmean == reference.header.dmean && written.header.rms == reference.header.rms)
            let file = try HDF5Reader(path: h5)
            #expect(try file.floats("/map").map(\.bitPattern) == reference.volume.values.map(\.bitPattern),
                    "\(name) np \(n): /map differs")
            #expect(try file.integers("/timing/rank") == (0..<n).map(Int64.init))
            let zStart = try file.integers("/timing/z_start"), zEnd = try file.integers("/timing/z_end")
            #expect(zStart.count == n && zEnd.count == n)
            let read = try file.integers("/timing/bytes_read"), wrote = try file.integers("/timing/bytes_written")
            #expect(read.count == n && wrote.count == n)
            let voxels = reference.volume.grid.voxelCount
            // Every rank reads at least its planes of the experimental map (4 bytes a voxel).
            #expect(read.reduce(0, +) >= Int64(4 * voxels), "\(name) np \(n): \(read)")
            // The MRC file (header and data, by all ranks), /map (rank 0), --save-model-map none.
            #expect(wrote.reduce(0, +) == Int64(1024 + 8 * voxels), "\(name) np \(n): \(wrote)")
            #expect(result.stderr.contains("localscale: I/O: read "), "\(result.stderr)")
        }
    }

    @Test("a map truncated in its last slab, or with a NaN there: one line, exit 1, no output, from N = 1, 2, 3",
          arguments: ["truncated", "nan"])
    func damagedLastSlab(damage: String) throws {
        let scratch = Scratch()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: CLITests.fixtures + "/em.mrc"))
        let grid = try MRCFile.read(path: CLITests.fixtures + "/em.mrc").volume.grid
        let expected: String
        if damage == "truncated" {
            bytes.removeLast(4)
            expected = "\(scratch.file("em.mrc")): data truncated: the header promises \(4 * grid.voxelCount) bytes "
                + "of data, the file holds \(4 * grid.voxelCount - 4)"
        } else {
            // Voxel (x, y, z) = (3, 2, NZ − 1), in the last plane (em.mrc is x fastest, mode 2).
            let s = grid.shape
            let at = 1024 + 4 * ((s.z - 1) * s.x * s.y + 2 * s.x + 3)
            bytes.replaceSubrange(at ..< at + 4, with: withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { Data($0) })
            expected = "\(scratch.file("em.mrc")): nan at voxel (x, y, z) = (3, 2, \(s.z - 1)); maps must be finite"
        }
        try bytes.write(to: URL(fileURLWithPath: scratch.file("em.mrc")))
        for n in [1, 2, 3] {
            let out = scratch.file("out\(n).mrc")
            let result = try Self.scale(n, ["--em", scratch.file("em.mrc"), "--model-map", "model.mrc", "--mask", "mask.mrc",
                                            "--window", "8", "--out", out, "--hdf5", scratch.file("out\(n).h5")])
            #expect(result.status == 1, "np \(n): \(result.stderr)")
            let lines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("localscale:") }.map(String.init)
            #expect(lines == ["localscale: error: " + expected], "np \(n): \(result.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["em.mrc"])
        }
    }

    @Test("a rank killed after the collective write leaves no output; the next runs are not disturbed")
    func rankKilledMidWrite() throws {
        let scratch = Scratch()
        let out = scratch.file("out.mrc"), h5 = scratch.file("out.h5")
        let killed = try Self.scale(3, Self.cases["exact_pad1"]! + ["--out", out, "--hdf5", h5],
                                    environment: ["LOCALSCALE_TEST_KILL_RANK": "1", "LOCALSCALE_TEST_KILL_AT": "write"])
        #expect(killed.status != 0 && killed.status != 124, "status \(killed.status): \(killed.stderr)")
        #expect(killed.stderr.contains("rank 1 exits"))
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.path)
        #expect(!left.contains("out.mrc") && !left.contains("out.h5"), "\(left)")
        // Rank 0's complete temporary map, named by its process.
        let temporaries = left.filter { $0.hasPrefix("out.mrc.tmp-") }
        #expect(temporaries.count == 1, "\(left)")

        // The next run writes the right map beside the temporaries (their process may not be reaped
        // yet); once it is gone, a run removes them.
        let reference = try CLITests.dataBytes(CLITests.fixtures + "/slab_ref_exact_pad1.mrc")
        let again = try Self.scale(3, Self.cases["exact_pad1"]! + ["--out", out, "--hdf5", h5])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try CLITests.dataBytes(out) == reference)
        let pid = temporaries.first.flatMap { Int32($0.dropFirst("out.mrc.tmp-".count)) } ?? 0
        let deadline = Date().addingTimeInterval(20)
        while kill(pid, 0) == 0 && Date() < deadline { usleep(100_000) }
        let third = try Self.scale(3, Self.cases["exact_pad1"]! + ["--out", out, "--hdf5", h5])
        #expect(third.status == 0, "\(third.stderr)")
        #expect(third.stderr.contains("localscale: removed \(out).tmp-\(pid), left by a run that no longer exists"))
        #expect(try CLITests.dataBytes(out) == reference)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted() == ["out.h5", "out.mrc"])
    }

    @Test("--report on N ranks (validated by slab, no whole map on any rank) gives the 1-rank report",
          arguments: ["exact_pad1", "halfmaps", "model"])
    func reportOnRanks(name: String) throws {
        let scratch = Scratch()
        var summaries: [NSDictionary] = [], curves: [Data] = []
        for n in [1, 3] {
            let result = try Self.scale(n, Self.cases[name]! + ["--out", scratch.file("np\(n).mrc"),
                                                              "--report", scratch.file("r\(n)")])
            #expect(result.status == 0, "np \(n): \(result.stderr)")
            let data = try Data(contentsOf: URL(fileURLWithPath: scratch.file("r\(n)/summary.json")))
            var summary = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            summary["parameters"] = nil
            summaries.append(summary as NSDictionary)
            for file in ["fsc-input.csv", "fsc-output.csv"] {
                curves.append(try Data(contentsOf: URL(fileURLWithPath: scratch.file("r\(n)/\(file)"))))
            }
        }
        #expect(summaries[0] == summaries[1], "\(name)")
        #expect(curves[0] == curves[2] && curves[1] == curves[3], "\(name)")
    }
}
