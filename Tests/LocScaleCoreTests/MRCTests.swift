import Foundation
import Testing
@testable import LocScaleCore

/// The logical array of every iota fixture: value at (z, y, x) = 20z + 5y + x, shape (3, 4, 5).
private let iota: [Float] = (0..<60).map(Float.init)

@Suite("MRC reading and writing")
struct MRCTests {
    @Test("every readable mode gives the same logical array", arguments: [0, 1, 2, 6, 12])
    func modes(mode: Int) throws {
        let map = try MRCFile.read(path: Fixtures.path("iota_mode\(mode).mrc"))
        #expect(map.header.mode == Int32(mode))
        #expect(map.volume.grid.shape == XYZ(5, 4, 3))
        #expect(map.volume.values == iota)
    }

    @Test("all six axis orders normalise to (z, y, x) with their voxel sizes and starts",
          arguments: ["123", "132", "213", "231", "312", "321"])
    func axisOrders(order: String) throws {
        let map = try MRCFile.read(path: Fixtures.path("iota_axes_\(order).mrc"))
        let grid = map.volume.grid
        #expect(grid.axisOrder == order.map { Int(String($0))! })
        #expect(grid.shape == XYZ(5, 4, 3))
        #expect(grid.voxelSize == XYZ(1.0, 1.5, 2.0))
        #expect(grid.start == XYZ(1, 2, 3))
        #expect(map.volume.values == iota)
    }

    @Test("big-endian data and an extended header are read")
    func byteOrderAndExtendedHeader() throws {
        let big = try MRCFile.read(path: Fixtures.path("iota_bigendian.mrc"))
        #expect(!big.header.littleEndian)
        #expect(big.volume.values == iota)
        let extended = try MRCFile.read(path: Fixtures.path("iota_exthdr.mrc"))
        #expect(extended.header.extendedHeaderBytes == 160)
        #expect(extended.volume.values == iota)
    }

    @Test("write then read keeps values, shape, voxel size, origin, nstart and axis order",
          arguments: ["iota_axes_123.mrc", "iota_axes_231.mrc", "iota_axes_321.mrc", "iota_bigendian.mrc", "em.mrc"])
    func roundTrip(name: String) throws {
        let scratch = ScratchDirectory()
        let original = try MRCFile.read(path: Fixtures.path(name))
        try MRCFile.write(original.volume, to: scratch.file("out.mrc"), labels: ["round trip"])
        let again = try MRCFile.read(path: scratch.file("out.mrc"))
        #expect(again.volume.values == original.volume.values)
        #expect(again.volume.grid == original.volume.grid)
        #expect(again.header.mode == 2)
        // The file's own words come back unchanged, in the file's axis order.
        #expect(again.header.columns == original.header.columns)
        #expect(again.header.sections == original.header.sections)
        #expect(again.header.columnStart == original.header.columnStart)
        #expect(again.header.sectionStart == original.header.sectionStart)
        #expect(again.header.axisOrder == original.header.axisOrder)
        #expect(again.header.origin == original.header.origin)
        #expect(again.header.cellLengths == original.header.cellLengths)
        #expect(again.header.labels == ["round trip"])
        #expect(!FileManager.default.fileExists(atPath: scratch.file("out.mrc.tmp-\(getpid())")))
    }

    @Test("written statistics are min, max, mean and RMS deviation of the data")
    func statistics() throws {
        let scratch = ScratchDirectory()
        let grid = Grid(shape: XYZ(2, 2, 1), voxelSize: XYZ(1, 1, 1))
        try MRCFile.write(Volume(grid: grid, values: [1, 2, 3, 6]), to: scratch.file("s.mrc"), labels: [])
        let header = try MRCFile.readHeader(path: scratch.file("s.mrc"))
        #expect(header.dmin == 1)
        #expect(header.dmax == 6)
        #expect(header.dmean == 3)
        #expect(abs(Double(header.rms) - (3.5).squareRoot()) < 1e-6)
    }

    @Test("a map with a non-zero origin puts voxel 0 at the origin, else at nstart · voxel size")
    func firstVoxelPosition() throws {
        let em = try MRCFile.read(path: Fixtures.path("em.mrc")).volume.grid
        #expect(em.firstVoxelPosition == XYZ(-7.5, 3.0, 12.25))
        let axes = try MRCFile.read(path: Fixtures.path("iota_axes_312.mrc")).volume.grid
        #expect(axes.firstVoxelPosition == XYZ(1.0, 3.0, 6.0))
    }
}

@Suite("MRC errors")
struct MRCErrorTests {
    /// Writes `bytes` to a scratch file and returns the reader's error message.
    private func message(reading bytes: [UInt8], name: String = "bad.mrc") -> String {
        let scratch = ScratchDirectory()
        let path = scratch.file(name)
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        do {
            _ = try MRCFile.read(path: path)
            return "no error"
        } catch {
            return "\(error)".replacingOccurrences(of: scratch.path + "/", with: "")
        }
    }

    private func iotaBytes() throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("iota_mode2.mrc"))))
    }

    @Test func missingFile() {
        #expect(throws: MRCError.cannotOpen(path: "/nonexistent/x.mrc", reason: "No such file or directory")) {
            try MRCFile.read(path: "/nonexistent/x.mrc")
        }
        #expect("\(MRCError.cannotOpen(path: "/nonexistent/x.mrc", reason: "No such file or directory"))"
                == "/nonexistent/x.mrc: cannot open: No such file or directory")
    }

    @Test func headerTooShort() {
        #expect(message(reading: [UInt8](repeating: 0, count: 100))
                == "bad.mrc: not an MRC/CCP4 map: 100 bytes, shorter than the 1024-byte header")
    }

    /// A foreign map word is tolerated (with a warning) when the rest of the header is a map,
    /// as in old CCP4 files; otherwise the file is not a map.
    @Test func wrongMapWord() throws {
        var bytes = try iotaBytes()
        bytes.replaceSubrange(208..<212, with: Array("PAM!".utf8))
        #expect(message(reading: bytes) == "no error")
        bytes[12] = 4
        #expect(message(reading: bytes) == "bad.mrc: not an MRC/CCP4 map: word 53 is \"PAM!\", expected \"MAP \"")
    }

    @Test func truncatedData() throws {
        let bytes = try iotaBytes()
        #expect(message(reading: Array(bytes.prefix(1024 + 200)))
                == "bad.mrc: data truncated: the header promises 240 bytes of data, the file holds 200")
    }

    @Test func unsupportedMode() throws {
        var bytes = try iotaBytes()
        bytes[12] = 4
        #expect(message(reading: bytes) == "bad.mrc: unsupported MRC mode 4 (readable: 0, 1, 2, 6, 12)")
    }

    @Test func badAxisOrder() throws {
        var bytes = try iotaBytes()
        bytes[68] = 1  // MAPR = 1, same as MAPC
        #expect(message(reading: bytes) == "bad.mrc: MAPC/MAPR/MAPS = 1,1,3 is not a permutation of 1,2,3")
    }

    @Test func failedWriteLeavesTheOldFile() throws {
        let scratch = ScratchDirectory()
        let path = scratch.file("keep.mrc")
        let good = Volume(grid: Grid(shape: XYZ(2, 2, 2), voxelSize: XYZ(1, 1, 1)), values: [Float](repeating: 7, count: 8))
        try MRCFile.write(good, to: path, labels: [])
        // Make the directory read-only for the temporary file: root ignores permissions, so
        // instead write into a path whose temporary name is a directory.
        try FileManager.default.createDirectory(atPath: path + ".tmp-\(getpid())", withIntermediateDirectories: false)
        #expect(throws: OutputError.cannotWrite(path: path, reason: "Is a directory")) {
            try MRCFile.write(Volume(zerosOn: good.grid), to: path, labels: [])
        }
        #expect(try MRCFile.read(path: path).volume.values == good.values)
    }
}
