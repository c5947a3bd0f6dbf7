import Foundation
import Testing
@testable import LocScaleCore

/// `MRCSlabReader`: any z-slab of any readable file equals those planes of the whole-file read,
/// and each slab's data errors are found when, and only when, that slab is read.
@Suite("MRC slab reads")
struct SlabReadTests {
    static let fixtures = ["iota_axes_123.mrc", "iota_axes_132.mrc", "iota_axes_213.mrc", "iota_axes_231.mrc",
                           "iota_axes_312.mrc", "iota_axes_321.mrc", "iota_mode0.mrc", "iota_mode1.mrc",
                           "iota_mode2.mrc", "iota_mode6.mrc", "iota_mode12.mrc", "iota_bigendian.mrc",
                           "iota_exthdr.mrc", "em.mrc", "mask.mrc"]

    /// Every slab a..<b (0 ≤ a < b ≤ NZ) of `path` against the whole-file read, bit for bit.
    private func checkEverySlab(_ path: String) throws {
        let whole = try MRCFile.read(path: path).volume
        let reader = try MRCSlabReader(path: path)
        #expect(reader.grid == whole.grid)
        let plane = whole.grid.shape.x * whole.grid.shape.y
        for a in 0..<whole.grid.shape.z {
            for b in a + 1...whole.grid.shape.z {
                let slab = try reader.read(planes: a..<b)
                let expected = whole.values[a * plane ..< b * plane].map(\.bitPattern)
                #expect(slab.values.map(\.bitPattern) == expected, "\(path) planes \(a)..<\(b)")
                #expect(slab.planes == a..<b && slab.shape == whole.grid.shape)
                #expect(slab.bytesRead > 0)
            }
        }
    }

    @Test("every slab of every axis order, mode, byte order and extended header equals the whole read",
          arguments: fixtures)
    func everySlab(name: String) throws {
        try checkEverySlab(Fixtures.path(name))
    }

    @Test("a slab with z along the sections reads exactly its bytes; along columns, the spans of every section")
    func bytesRead() throws {
        let plane = 5 * 4 * 4
        let contiguous = try MRCSlabReader(path: Fixtures.path("iota_axes_123.mrc"))
        #expect(try contiguous.read(planes: 1..<3).bytesRead == 2 * plane)
        #expect(try contiguous.read(planes: 0..<0).bytesRead == 0)
        // 3,2,1: columns are z (3), rows y (4), sections x (5); plane 1 lies in every row of
        // every section: from column 1 of row 0 to column 1 of row 3 = 3 rows of 3 + 1 voxels.
        let strided = try MRCSlabReader(path: Fixtures.path("iota_axes_321.mrc"))
        #expect(try strided.read(planes: 1..<2).bytesRead == 5 * (3 * 3 + 1) * 4)
    }

    @Test("slabs of 1 MiB sections (z along sections: read in place, or in chunks and transposed) equal the values",
          arguments: [[1, 2, 3], [2, 1, 3]])
    func severalChunks(order: [Int]) throws {
        let scratch = ScratchDirectory()
        let grid = Grid(shape: XYZ(512, 512, 20), voxelSize: XYZ(1, 1, 1), axisOrder: order)
        var generator = SystemRandomNumberGenerator()
        let values = (0..<grid.voxelCount).map { _ in Float.random(in: -1...1, using: &generator) }
        try MRCFile.write(Volume(grid: grid, values: values), to: scratch.file("big.mrc"), labels: [])
        let reader = try MRCSlabReader(path: scratch.file("big.mrc"))
        #expect(MRCSlabReader.chunkBytes < 20 * 512 * 512 * 4)
        for planes in [0..<20, 3..<17, 19..<20] {
            let slab = try reader.read(planes: planes)
            #expect(slab.values == Array(values[planes.lowerBound * 512 * 512 ..< planes.upperBound * 512 * 512]))
            #expect(slab.bytesRead == planes.count * 512 * 512 * 4)
        }
    }

    @Test("a map truncated in its last planes fails only for the slabs that need them, with the whole-read line",
          arguments: ["iota_axes_123.mrc", "iota_axes_321.mrc"])
    func truncatedLastSlab(name: String) throws {
        let scratch = ScratchDirectory()
        let path = scratch.file("short.mrc")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path(name)))
        try bytes.dropLast(4).write(to: URL(fileURLWithPath: path))
        let line = "\(path): data truncated: the header promises 240 bytes of data, the file holds 236"
        let error = #expect(throws: MRCError.self) { try MRCFile.read(path: path) }
        #expect(error?.description == line)
        let reader = try MRCSlabReader(path: path)
        #expect(try reader.read(planes: 0..<2).values == Array((0..<40).map(Float.init)))
        for planes in [2..<3, 1..<3, 0..<3] {
            let slabError = #expect(throws: MRCError.self) { try reader.read(planes: planes) }
            #expect(slabError?.description == line)
        }
    }

    @Test("a header read elsewhere (another rank's) reads the same slabs")
    func givenHeader() throws {
        let path = Fixtures.path("iota_axes_231.mrc")
        let header = try MRCFile.readHeader(path: path)
        let reader = try MRCSlabReader(path: path, header: header)
        #expect(try reader.read(planes: 1..<3).values == Array((20..<60).map(Float.init)))
    }

    @Test("a NaN is found in the slab that holds it, at its voxel of the whole map, as the whole-map check says")
    func nonFiniteSlab() throws {
        let scratch = ScratchDirectory()
        let path = scratch.file("nan.mrc")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("iota_mode2.mrc"))))
        // Voxel (x, y, z) = (3, 2, 2) of the 5 × 4 × 3 map.
        let offset = 1024 + 4 * (2 * 20 + 2 * 5 + 3)
        withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { bytes.replaceSubrange(offset..<offset + 4, with: $0) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let reader = try MRCSlabReader(path: path)
        try reader.read(planes: 0..<2).checkFinite()
        let slabError = #expect(throws: ScalingInputError.self) { try reader.read(planes: 1..<3).checkFinite() }
        let wholeError = #expect(throws: ScalingInputError.self) {
            try ScalingInputs.checkFinite(NamedVolume(path: path, volume: MRCFile.read(path: path).volume))
        }
        #expect(slabError?.description == "\(path): nan at voxel (x, y, z) = (3, 2, 2); maps must be finite")
        #expect(slabError?.description == wholeError?.description)
    }
}
