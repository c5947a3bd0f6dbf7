import Foundation
import Testing
import LocScaleCore

/// `localscale-slab-io-check` under mpirun: N ranks read a map by z-slabs and write it back with
/// the collective MPI-IO writer; the file must be the one `MRCFile.write` writes for the whole map.
@Suite("slab I/O under mpirun", .serialized)
struct SlabIOTests {
    /// The check tool built beside the tests (`swift test` builds every product).
    static let tool: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/localscale-slab-io-check").path

    static func mpirun(_ ranks: Int, _ arguments: [String]) throws -> CLITests.Result {
        try CLITests.launch("mpirun", ["-np", "\(ranks)", tool] + arguments, environment: CLITests.mpiEnvironment,
                            limit: 90)
    }

    @Test("N ∈ {1, 2, 3, 4} ranks write MRCFile.write's file byte for byte, in every axis order and mode",
          arguments: ["em.mrc", "mask.mrc", "iota_axes_123.mrc", "iota_axes_132.mrc", "iota_axes_213.mrc",
                      "iota_axes_231.mrc", "iota_axes_312.mrc", "iota_axes_321.mrc", "iota_mode0.mrc",
                      "iota_mode12.mrc", "iota_bigendian.mrc", "iota_exthdr.mrc"])
    func sameFileAsWholeWrite(name: String) throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.tool), "build \(Self.tool) first")
        let scratch = Scratch()
        let input = CLITests.fixtures + "/" + name
        try MRCFile.write(try MRCFile.read(path: input).volume, to: scratch.file("whole.mrc"),
                          labels: ["localscale slab-io check"])
        let expected = try Data(contentsOf: URL(fileURLWithPath: scratch.file("whole.mrc")))
        for n in 1...4 {
            let out = scratch.file("np\(n).mrc")
            let result = try Self.mpirun(n, [input, out])
            #expect(result.status == 0, "np \(n): \(result.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == expected, "np \(n) \(name)")
            let measured = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            #expect(measured?["bytesWritten"] as? Int == expected.count, "np \(n): \(result.stdout)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted()
                    == ((1...n).map { "np\($0).mrc" } + ["whole.mrc"]).sorted())
        }
    }

    @Test("one plane, z along the columns, 2 ranks (one holds every plane, one none): MRCFile.write's file")
    func onePlaneAcrossRanks() throws {
        let scratch = Scratch()
        var grid = Grid(shape: XYZ(5, 6, 1), voxelSize: XYZ(1, 1, 1))
        grid.axisOrder = [3, 2, 1]
        try MRCFile.write(Volume(grid: grid, values: (0..<30).map { Float($0) - 7.5 }), to: scratch.file("in.mrc"),
                          labels: ["localscale slab-io check"])
        let expected = try Data(contentsOf: URL(fileURLWithPath: scratch.file("in.mrc")))
        // Before, the rank holding the plane wrote it as one byte range and the other went into
        // the collective MPI-IO writes: mpirun hung until the test's time limit.
        let result = try Self.mpirun(2, [scratch.file("in.mrc"), scratch.file("out.mrc")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: scratch.file("out.mrc"))) == expected)
    }

    @Test("the header's DMEAN and RMS come from plane sums added in plane order, the same for every N")
    func statisticsFromPlaneSums() throws {
        let scratch = Scratch()
        // 2^60, then a plane of 400 ones, then -2^60: one loop over all voxels adds each 1 to 2^60
        // and loses it (mean 0); the plane sums 2^60, 400, -2^60 added in plane order give 512
        // (2^60 + 400 rounds to 2^60 + 512), whichever ranks hold the planes.
        var values = [Float](repeating: 0, count: 3 * 400)
        values[0] = 0x1p60
        for i in 400..<800 { values[i] = 1 }
        values[800] = -0x1p60
        let volume = Volume(grid: Grid(shape: XYZ(20, 20, 3), voxelSize: XYZ(1, 1, 1)), values: values)
        #expect(volume.statistics.mean == 0)
        try MRCFile.write(volume, to: scratch.file("in.mrc"), labels: ["localscale slab-io check"])
        let header = try MRCFile.read(path: scratch.file("in.mrc")).header
        #expect(header.dmean == Float(512.0 / 1200))
        let expected = try Data(contentsOf: URL(fileURLWithPath: scratch.file("in.mrc")))
        for n in 1...3 {
            let result = try Self.mpirun(n, [scratch.file("in.mrc"), scratch.file("out.mrc")])
            #expect(result.status == 0, "np \(n): \(result.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: scratch.file("out.mrc"))) == expected, "np \(n)")
        }
    }

    /// The lines of the check tool's errors in `result`'s stderr (mpirun adds its own).
    private func errorLines(_ result: CLITests.Result) -> [String] {
        result.stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("localscale-slab-io-check:") }
    }

    @Test("a map truncated in its last slab: every N fails with the last rank's line, once, and writes nothing")
    func truncatedLastSlab() throws {
        let scratch = Scratch()
        let input = scratch.file("short.mrc")
        try Data(contentsOf: URL(fileURLWithPath: CLITests.fixtures + "/em.mrc")).dropLast(4)
            .write(to: URL(fileURLWithPath: input))
        for n in 1...4 {
            let result = try Self.mpirun(n, [input, scratch.file("out.mrc")])
            #expect(result.status == 1, "np \(n)")
            #expect(errorLines(result) == ["localscale-slab-io-check: error: \(input): data truncated: "
                                           + "the header promises 31680 bytes of data, the file holds 31676"],
                    "np \(n): \(result.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["short.mrc"])
        }
    }

    @Test("a short write (file size limit on rank 0) fails every rank, leaves no file; x fastest and z along columns",
          arguments: [(1, "em.mrc"), (3, "em.mrc"), (1, "em_zyx.mrc"), (3, "em_zyx.mrc")])
    func shortWrite(ranks: Int, input: String) throws {
        let scratch = Scratch()
        let out = scratch.file("out.mrc")
        var path = CLITests.fixtures + "/em.mrc"
        if input == "em_zyx.mrc" {
            var volume = try MRCFile.read(path: path).volume
            volume.grid.axisOrder = [3, 2, 1]
            path = scratch.file(input)
            try MRCFile.write(volume, to: path, labels: [])
        }
        let result = try Self.mpirun(ranks, [path, out, "--file-size-limit-on-rank-0", "8192"])
        #expect(result.status == 1)
        // Slabs that are one byte range (x-fastest maps; any map on one rank) are written with
        // pwrite, which reports the short write (rank 0 writes beyond 8192 bytes for every N
        // here); other slabs by collective MPI-IO, which does not (Open MPI's ompio), so the
        // file's size tells.
        let contiguous = input == "em.mrc" || ranks == 1
        let reason = contiguous ? "File too large" : "the file holds 8192 bytes after writing, expected 32704"
        #expect(errorLines(result) == ["localscale-slab-io-check: error: \(out): cannot write: \(reason)"],
                "\(result.stderr)")
        try? FileManager.default.removeItem(atPath: scratch.file(input))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == [])
    }
}
