#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A map read from disk: the header as found and the volume normalised to (z, y, x).
public struct MRCMap: Sendable {
    public var header: MRCHeader
    public var volume: Volume
}

/// What a reader does with a header whose geometry cannot be computed with (see
/// `MRCHeader.geometryErrors`).
public enum GeometryCheck: Sendable {
    /// Throw the first problem: for maps read to compute with.
    case refuse
    /// Add the problems to the header's warnings: for showing what a file holds.
    case warn
}

extension MRCHeader {
    /// Applies `geometry` to the problems of `geometryErrors`: throws the first, or adds them
    /// all to `warnings`.
    mutating func check(_ geometry: GeometryCheck, path: String) throws {
        let problems = geometryErrors(path: path)
        switch geometry {
        case .refuse: if let first = problems.first { throw first }
        case .warn: warnings += problems.map(\.description)
        }
    }
}

/// Reading and writing MRC2014 / CCP4 map files.
public enum MRCFile {
    /// Reads the header of the map at `path`, checked as `read` checks it (data present in the
    /// file and within memory; geometry per `geometry`) but without reading the data.
    public static func readHeader(path: String, geometry: GeometryCheck = .refuse) throws -> MRCHeader {
        let file = try OpenFile(path: path)
        defer { file.close() }
        return try checkedHeader(of: file, geometry: geometry).header
    }

    /// Reads the whole map at `path` in any supported mode, byte order and axis order: the
    /// slab of every plane, after the whole data has been checked as `readHeader` checks it.
    /// - Throws: `MRCError` naming the file and the problem.
    public static func read(path: String, geometry: GeometryCheck = .refuse) throws -> MRCMap {
        let file = try OpenFile(path: path)
        let reader: MRCSlabReader
        do {
            let (header, layout) = try checkedHeader(of: file, geometry: geometry)
            reader = MRCSlabReader(file: file, header: header, layout: layout)
        } catch {
            file.close()
            throw error
        }
        let slab = try reader.read(planes: 0..<reader.grid.shape.z)
        return MRCMap(header: reader.header, volume: Volume(grid: reader.grid, values: slab.values))
    }

    /// The header of `file` with the layout of its data, both checked.
    private static func checkedHeader(of file: OpenFile,
                                      geometry: GeometryCheck) throws -> (header: MRCHeader, layout: DataLayout) {
        var header = try MRCHeader(bytes: file.read(count: MRCHeader.byteCount, at: 0), path: file.path)
        let layout = try DataLayout(header: header, fileSize: file.size, path: file.path)
        try header.check(geometry, path: file.path)
        return (header, layout)
    }

    /// Writes `volume` as a little-endian mode-2 map in the axis order and geometry of its grid,
    /// with fresh statistics and `labels`, to `path` under its temporary name in `outputs` (renamed
    /// into place by `outputs.commit()`).
    public static func write(_ volume: Volume, to path: String, labels: [String], in outputs: OutputFiles) throws {
        let statistics = MapStatistics(planes: volume.values, planeSize: volume.grid.shape.x * volume.grid.shape.y)
        let header = MRCHeader(writing: volume.grid, statistics: statistics, labels: labels)
        try outputs.write(to: path) { sink in
            try sink.write(header.bytes)
            let (columnStride, rowStride, sectionStride) = volume.grid.fileOrderStrides
            let (columns, rows, sections) = (Int(header.columns), Int(header.rows), Int(header.sections))
            var section = [Float](repeating: 0, count: columns * rows)
            try volume.values.withUnsafeBufferPointer { source in
                for s in 0..<sections {
                    var k = 0
                    for r in 0..<rows {
                        var from = s * sectionStride + r * rowStride
                        for _ in 0..<columns {
                            section[k] = source[from]
                            k += 1
                            from += columnStride
                        }
                    }
                    // x86-64 and arm64 are little-endian, as the header says.
                    try section.withUnsafeBytes { try sink.write($0) }
                }
            }
        }
    }

    /// Writes `volume` to `path` alone, atomically (`PATH.tmp-PID`, then renamed into place), so
    /// an existing file is never left half overwritten.
    public static func write(_ volume: Volume, to path: String, labels: [String]) throws {
        let outputs = OutputFiles()
        try write(volume, to: path, labels: labels, in: outputs)
        try outputs.commit()
    }
}

/// Where the voxels of a map lie in its file, with every size computed without overflow and
/// checked against the file's size and the physical memory before anything is allocated.
struct DataLayout {
    /// Offset of the first voxel in the file (main plus extended header), bytes.
    let offset: Int
    /// Bytes of one voxel, one row (NX voxels) and one section (NX × NY voxels) on disk.
    let voxelBytes: Int, rowBytes: Int, sectionBytes: Int
    /// Bytes of all the data (NX × NY × NZ voxels) on disk.
    let dataBytes: Int
    /// NX × NY × NZ.
    let voxelCount: Int
    /// The file's NX, NY, NZ (named in errors).
    let box: (nx: Int32, ny: Int32, nz: Int32)

    /// The layout of the whole map, checked: all its data in the file, all of it in memory.
    /// - Throws: `MRCError.boxTooLarge` when the map as 32-bit floats would exceed
    ///   `memoryBytes` (or an `Int`), `MRCError.truncated` when the file holds less data than
    ///   the header promises.
    init(header: MRCHeader, fileSize: Int, path: String, memoryBytes: Int = physicalMemoryBytes()) throws {
        try self.init(header: header, path: path, memoryBytes: memoryBytes)
        try checkPresent(upTo: dataBytes, fileSize: fileSize, path: path)
        try checkFits(voxels: voxelCount, path: path, memoryBytes: memoryBytes)
    }

    /// The layout alone, for reading by slabs: only its sizes are checked (against `Int`).
    /// - Throws: `MRCError.boxTooLarge` when a size overflows an `Int`.
    init(header: MRCHeader, path: String, memoryBytes: Int = physicalMemoryBytes()) throws {
        let width = MRCMode(rawValue: header.mode)!.byteWidth
        // NX, NY, NZ are positive Int32s and NSYMBT a non-negative one (checked by the header):
        // only their products can overflow.
        let (columns, rows, sections) = (Int(header.columns), Int(header.rows), Int(header.sections))
        guard let voxels = product(columns, rows, sections), product(voxels, 4) != nil,
              let dataBytes = product(voxels, width), let sectionBytes = product(columns, rows, width) else {
            throw MRCError.boxTooLarge(path: path, nx: header.columns, ny: header.rows, nz: header.sections,
                                       limitBytes: memoryBytes)
        }
        offset = MRCHeader.byteCount + Int(header.extendedHeaderBytes)
        voxelBytes = width
        rowBytes = columns * width
        self.sectionBytes = sectionBytes
        self.dataBytes = dataBytes
        voxelCount = voxels
        box = (header.columns, header.rows, header.sections)
    }

    /// Fails unless the file of `fileSize` bytes holds the data up to `end` bytes after `offset`;
    /// the error names the whole data, whichever part of it is missing.
    /// - Throws: `MRCError.truncated`.
    func checkPresent(upTo end: Int, fileSize: Int, path: String) throws {
        let available = max(0, fileSize - offset)
        guard end <= available else {
            throw MRCError.truncated(path: path, expectedBytes: dataBytes, availableBytes: available)
        }
    }

    /// Fails when `voxels` 32-bit floats would exceed `memoryBytes`.
    /// - Throws: `MRCError.boxTooLarge`.
    func checkFits(voxels: Int, path: String, memoryBytes: Int = physicalMemoryBytes()) throws {
        guard voxels <= memoryBytes / 4 else {
            throw MRCError.boxTooLarge(path: path, nx: box.nx, ny: box.ny, nz: box.nz, limitBytes: memoryBytes)
        }
    }
}

/// The product of `factors`, or nil when it overflows `Int`.
private func product(_ factors: Int...) -> Int? {
    var result = 1
    for factor in factors {
        let (next, overflow) = result.multipliedReportingOverflow(by: factor)
        if overflow { return nil }
        result = next
    }
    return result
}

/// Decodes one voxel of a given mode and byte order to Float.
struct VoxelDecoder {
    let mode: MRCMode
    let littleEndian: Bool

    @inline(__always)
    func decode(_ raw: UnsafeRawBufferPointer, at offset: Int) -> Float {
        switch mode {
        case .int8:
            return Float(Int8(bitPattern: raw[offset]))
        case .int16:
            return Float(Int16(bitPattern: bits16(raw, offset)))
        case .uint16:
            return Float(bits16(raw, offset))
        case .float16:
            return Float(Float16(bitPattern: bits16(raw, offset)))
        case .float32:
            let b0 = UInt32(raw[offset]), b1 = UInt32(raw[offset + 1])
            let b2 = UInt32(raw[offset + 2]), b3 = UInt32(raw[offset + 3])
            let bits = littleEndian ? b0 | b1 << 8 | b2 << 16 | b3 << 24
                                    : b3 | b2 << 8 | b1 << 16 | b0 << 24
            return Float(bitPattern: bits)
        }
    }

    /// Whether a voxel's bytes in the file are its Float's bytes in memory: little-endian
    /// float32 (x86-64 and arm64 are little-endian).
    var copiesBytes: Bool { mode == .float32 && littleEndian }

    /// Decodes `count` voxels stored one after another from `offset` of `raw` into `out[target]`,
    /// `out[target + stride]`, …
    @inline(__always)
    func decode(_ raw: UnsafeRawBufferPointer, at offset: Int, count: Int,
                into out: UnsafeMutableBufferPointer<Float>, at target: Int, stride: Int) {
        if copiesBytes && stride == 1 {
            UnsafeMutableRawPointer(out.baseAddress! + target)
                .copyMemory(from: raw.baseAddress! + offset, byteCount: 4 * count)
            return
        }
        var from = offset, to = target
        for _ in 0..<count {
            out[to] = decode(raw, at: from)
            from += mode.byteWidth
            to += stride
        }
    }

    @inline(__always)
    private func bits16(_ raw: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 {
        let b0 = UInt16(raw[offset]), b1 = UInt16(raw[offset + 1])
        return littleEndian ? b0 | b1 << 8 : b1 | b0 << 8
    }
}
