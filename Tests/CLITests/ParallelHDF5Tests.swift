import Foundation
import Testing
import LocScaleCore
import LocScaleHDF5

/// `localscale-slab-io-check IN OUT --hdf5` under mpirun: N ranks read a map by z-slabs and write
/// `/map` collectively with parallel HDF5 (`ParallelHDF5Map`); rank 0 then adds the attributes.
/// `/map` must be the one process's `HDF5Writer` map bit for bit.
@Suite("parallel HDF5 /map under mpirun", .serialized)
struct ParallelHDF5Tests {
    static let layout = "(z, y, x), x fastest; voxel_size, origin (Å) and nstart in x, y, z order"

    /// The map of `input` written by one process's `HDF5Writer`, as the check tool's `--hdf5-serial` does.
    static func writeSerially(_ input: String, to path: String) throws {
        let volume = try MRCFile.read(path: input).volume
        let s = volume.grid.shape
        let outputs = OutputFiles()
        let file = try HDF5Writer(temporary: outputs.temporaryPath(for: path), for: path)
        try file.write(volume.values, to: "/map", dims: [s.z, s.y, s.x],
                       chunk: [min(s.z, ParallelHDF5Map.chunkPlanes), s.y, s.x])
        try file.close()
        try outputs.commit()
    }

    /// `/map` of `path` (shape and bit patterns) and its attributes.
    struct MapContents: Equatable {
        let shape: [Int]
        let bits: [UInt32]
        init(_ path: String) throws {
            let file = try HDF5Reader(path: path)
            shape = try file.shape(of: "/map")
            bits = try file.floats("/map").map(\.bitPattern)
        }
    }

    /// A 20×20×3 map: fewer planes than ranks, so that some ranks write none.
    static func thinMap(in scratch: Scratch) throws -> String {
        let grid = Grid(shape: XYZ(20, 20, 3), voxelSize: XYZ(1.5, 1.25, 2), origin: XYZ(-3, 4.5, 6),
                        start: XYZ(-10, 2, 7))
        let values = (0 ..< grid.voxelCount).map { Float($0) * 0.37 - 100 }
        let path = scratch.file("thin.mrc")
        try MRCFile.write(Volume(grid: grid, values: values), to: path, labels: ["thin"])
        return path
    }

    @Test("N ∈ {1, 2, 3, 4, 8} ranks write the one-process /map bit for bit, attributes added by rank 0",
          arguments: ["em.mrc", "iota_axes_321.mrc", "thin"])
    func sameMapAsSerialWriter(name: String) throws {
        #expect(FileManager.default.isExecutableFile(atPath: SlabIOTests.tool), "build \(SlabIOTests.tool) first")
        let scratch = Scratch()
        let input = name == "thin" ? try Self.thinMap(in: scratch) : CLITests.fixtures + "/" + name
        let grid = try MRCFile.read(path: input).volume.grid
        try Self.writeSerially(input, to: scratch.file("serial.h5"))
        let expected = try MapContents(scratch.file("serial.h5"))
        #expect(expected.shape == [grid.shape.z, grid.shape.y, grid.shape.x])
        let before = try FileManager.default.contentsOfDirectory(atPath: scratch.path)
        for n in [1, 2, 3, 4, 8] {
            let out = scratch.file("np\(n).h5")
            let result = try SlabIOTests.mpirun(n, [input, out, "--hdf5"])
            #expect(result.status == 0, "np \(n): \(result.stderr)")
            #expect(try MapContents(out) == expected, "np \(n) \(name)")
            let file = try HDF5Reader(path: out)
            #expect(try file.doubles(attribute: "voxel_size", of: "/map") == grid.voxelSize.array, "np \(n)")
            #expect(try file.doubles(attribute: "origin", of: "/map") == grid.origin.array, "np \(n)")
            #expect(try file.doubles(attribute: "nstart", of: "/map") == grid.start.array.map(Double.init), "np \(n)")
            #expect(try file.text(attribute: "layout", of: "/map") == Self.layout, "np \(n)")
            let measured = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            #expect(measured?["bytesWritten"] as? Int == 4 * grid.voxelCount, "np \(n): \(result.stdout)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted()
                    == (before + (1...n).filter { [1, 2, 3, 4, 8].contains($0) }.map { "np\($0).h5" }).sorted())
        }
    }

    @Test("the check tool's --hdf5-serial (gathered on rank 0) writes the same /map and attributes on 3 ranks")
    func serialModeOfTheTool() throws {
        let scratch = Scratch()
        let input = CLITests.fixtures + "/em.mrc"
        try Self.writeSerially(input, to: scratch.file("serial.h5"))
        let result = try SlabIOTests.mpirun(3, [input, scratch.file("gathered.h5"), "--hdf5-serial"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try MapContents(scratch.file("gathered.h5")) == MapContents(scratch.file("serial.h5")))
        #expect(try HDF5Reader(path: scratch.file("gathered.h5")).text(attribute: "layout", of: "/map") == Self.layout)
    }

    /// The lines of the check tool's errors in `result`'s stderr (mpirun adds its own).
    private func errorLines(_ result: CLITests.Result) -> [String] {
        result.stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("localscale-slab-io-check:") }
    }

    /// (mount options of a tmpfs over the output folder, the line after "OUT: "): a file system
    /// too small for the file, and a read-only one.
    static let fullOrReadOnly: [(String, String)] = [
        ("size=16k", "cannot write: No space left on device (reserving 97216 bytes)"),
        ("ro,size=1m", "cannot write: Read-only file system"),
    ]

    @Test("a full or read-only file system: every N gives one line and exit 1, and leaves no file",
          .enabled(if: OutputSafetyTests.canMountTmpfs, "needs root to mount a tmpfs in a private mount namespace"),
          arguments: fullOrReadOnly.indices)
    func cannotWrite(_ index: Int) throws {
        let (options, line) = Self.fullOrReadOnly[index]
        let folder = Scratch()
        for n in [1, 2, 3, 4, 8] {
            let script = """
                mount -t tmpfs -o \(options) tmpfs "$1" || exit 99
                shift
                "$@"; echo "status=$?"; ls -A "$D"
                """
            let result = try CLITests.launch("/usr/bin/env", ["D=\(folder.path)", "unshare", "-m", "sh", "-c", script,
                                                              "sh", folder.path, "mpirun", "-np", "\(n)",
                                                              SlabIOTests.tool, CLITests.fixtures + "/em.mrc",
                                                              folder.file("out.h5"), "--hdf5"],
                                             environment: CLITests.mpiEnvironment, limit: 90)
            #expect(result.stdout == "status=1\n", "np \(n): \(result.stderr)")
            #expect(errorLines(result) == ["localscale-slab-io-check: error: \(folder.file("out.h5")): \(line)"],
                    "np \(n): \(result.stderr)")
        }
    }

    @Test("a file size limit on rank 0 fails every rank with one line before HDF5 writes, and leaves no file",
          arguments: [1, 3])
    func fileSizeLimit(ranks: Int) throws {
        let scratch = Scratch()
        let out = scratch.file("out.h5")
        let result = try SlabIOTests.mpirun(ranks, [CLITests.fixtures + "/em.mrc", out, "--hdf5",
                                                    "--file-size-limit-on-rank-0", "8192"])
        #expect(result.status == 1)
        #expect(errorLines(result) == ["localscale-slab-io-check: error: \(out): cannot write: File too large "
                                       + "(reserving 97216 bytes)"], "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == [])
    }
}
