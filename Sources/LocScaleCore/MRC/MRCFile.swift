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

/// Reading and writing MRC2014 / CCP4 map files.
public enum MRCFile {
    /// Reads the header of `path` only.
    public static func readHeader(path: String) throws -> MRCHeader {
        let file = try OpenFile(path: path)
        defer { file.close() }
        return try MRCHeader(bytes: file.read(count: MRCHeader.byteCount, at: 0), path: path)
    }

    /// Reads the whole map at `path` in any supported mode, byte order and axis order.
    /// - Throws: `MRCError` naming the file and the problem.
    public static func read(path: String) throws -> MRCMap {
        let file = try OpenFile(path: path)
        defer { file.close() }
        let header = try MRCHeader(bytes: file.read(count: MRCHeader.byteCount, at: 0), path: path)
        let mode = MRCMode(rawValue: header.mode)!
        let grid = header.grid
        let dataOffset = MRCHeader.byteCount + Int(header.extendedHeaderBytes)
        let sectionBytes = Int(header.columns) * Int(header.rows) * mode.byteWidth
        let expected = sectionBytes * Int(header.sections)
        let available = max(0, file.size - dataOffset)
        guard available >= expected else {
            throw MRCError.truncated(path: path, expectedBytes: expected, availableBytes: available)
        }

        let (columnStride, rowStride, sectionStride) = grid.fileOrderStrides

        var values = [Float](repeating: 0, count: grid.voxelCount)
        let converter = VoxelDecoder(mode: mode, littleEndian: header.littleEndian)
        values.withUnsafeMutableBufferPointer { out in
            var section = [UInt8](repeating: 0, count: sectionBytes)
            for s in 0..<Int(header.sections) {
                file.read(into: &section, at: dataOffset + s * sectionBytes)
                section.withUnsafeBytes { raw in
                    var offset = 0
                    for r in 0..<Int(header.rows) {
                        var target = s * sectionStride + r * rowStride
                        for _ in 0..<Int(header.columns) {
                            out[target] = converter.decode(raw, at: offset)
                            offset += mode.byteWidth
                            target += columnStride
                        }
                    }
                }
            }
        }
        return MRCMap(header: header, volume: Volume(grid: grid, values: values))
    }

    /// Writes `volume` as a little-endian mode-2 map in the axis order and geometry of its grid,
    /// with fresh statistics and `labels`, to `path` under its temporary name in `outputs` (renamed
    /// into place by `outputs.commit()`).
    public static func write(_ volume: Volume, to path: String, labels: [String], in outputs: OutputFiles) throws {
        let header = MRCHeader(writing: volume.grid, statistics: volume.statistics, labels: labels)
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

    @inline(__always)
    private func bits16(_ raw: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 {
        let b0 = UInt16(raw[offset]), b1 = UInt16(raw[offset + 1])
        return littleEndian ? b0 | b1 << 8 : b1 | b0 << 8
    }
}
