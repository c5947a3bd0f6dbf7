/// Planes of a map read from its file.
public struct MRCSlab: Sendable {
    /// The file the planes came from (named in errors).
    public let path: String
    /// The shape of the whole map (voxels along x, y, z).
    public let shape: XYZ<Int>
    /// The z-planes held (z normalised as in `MRCHeader.grid`).
    public let planes: Range<Int>
    /// The planes' values in (z, y, x) order, x fastest, plane `planes.lowerBound` first.
    public var values: [Float]
    /// Bytes read from the file for these planes: with z along the file's columns or rows, the
    /// bytes of other planes that lie between them are read too.
    public let bytesRead: Int

    /// Fails at the first NaN or infinite voxel, naming its (x, y, z) in the whole map.
    /// - Throws: `ScalingInputError.nonFinite`.
    public func checkFinite() throws {
        try ScalingInputs.checkFinite(values, shape: shape, firstPlane: planes.lowerBound, path: path)
    }
}

/// A map file read by z-planes (`planes` of its normalised (z, y, x) array), so that no reader
/// needs the whole map: the header and the sizes of the data are checked when it is opened; the
/// presence of each slab's data in the file, and its fit in memory, when the slab is read.
///
/// Reads are whole-section or partial-section `pread`s: with z along the sections (MAPS = 3) a
/// slab is one contiguous byte range, read in chunks of `chunkBytes` and decoded (little-endian
/// float32 with x fastest, the common case, is read straight into the slab's floats in one
/// range); with z along the rows or the columns it is read as the span of each section that
/// holds its voxels.
public final class MRCSlabReader {
    /// The header as read (with its warnings).
    public let header: MRCHeader
    /// The grid of the whole map.
    public let grid: Grid
    private let file: OpenFile
    private let layout: DataLayout

    /// Largest contiguous read, bytes (at least one section is read at a time).
    static let chunkBytes = 8 << 20

    /// Opens the map at `path` and reads and checks its header (structure, sizes, geometry per
    /// `geometry`) without requiring the whole data to be present: each slab is checked when read.
    /// - Throws: `MRCError` naming the file and the problem.
    public convenience init(path: String, geometry: GeometryCheck = .refuse) throws {
        let file = try OpenFile(path: path)
        do {
            var header = try MRCHeader(bytes: file.read(count: MRCHeader.byteCount, at: 0), path: path)
            let layout = try DataLayout(header: header, path: path)
            try header.check(geometry, path: path)
            self.init(file: file, header: header, layout: layout)
        } catch {
            file.close()
            throw error
        }
    }

    /// Opens the map at `path` with a `header` already read and checked (by another process, say).
    /// - Throws: `MRCError` when the file cannot be opened or the header's sizes overflow.
    public convenience init(path: String, header: MRCHeader) throws {
        let file = try OpenFile(path: path)
        do {
            self.init(file: file, header: header, layout: try DataLayout(header: header, path: path))
        } catch {
            file.close()
            throw error
        }
    }

    /// Takes `file` over (it is closed with the reader).
    init(file: OpenFile, header: MRCHeader, layout: DataLayout) {
        self.file = file
        self.header = header
        self.layout = layout
        grid = header.grid
    }

    deinit { file.close() }

    /// The path the map was opened from.
    public var path: String { file.path }

    /// Fails when the whole map as 32-bit floats would not fit in the physical memory (as
    /// `MRCFile.read` refuses it), for runs that keep that limit while reading by slabs.
    /// - Throws: `MRCError.boxTooLarge`.
    public func checkWholeMapFits() throws {
        try layout.checkFits(voxels: layout.voxelCount, path: path)
    }

    /// Reads the z-planes `planes` (within 0..<NZ of the normalised grid), converting any mode
    /// and byte order to 32-bit floats.
    /// - Throws: `MRCError.truncated` (for the whole data, as `MRCFile.read` says it) when the
    ///   file ends before the slab's last byte; `MRCError.boxTooLarge` when the slab would not fit
    ///   in the physical memory.
    public func read(planes: Range<Int>) throws -> MRCSlab {
        precondition(planes.lowerBound >= 0 && planes.upperBound <= grid.shape.z, "planes outside the map")
        let spans = SlabSpans(header: header, layout: layout, planes: planes)
        try layout.checkPresent(upTo: spans.end, fileSize: file.size, path: path)
        let planeVoxels = grid.shape.x * grid.shape.y
        try layout.checkFits(voxels: planeVoxels * planes.count, path: path)
        let decoder = VoxelDecoder(mode: MRCMode(rawValue: header.mode)!, littleEndian: header.littleEndian)
        let count = planeVoxels * planes.count
        var bytesRead = 0
        let values: [Float]
        if decoder.copiesBytes && header.axisOrder == [1, 2, 3] {
            // The slab's bytes in the file are its floats: read them in place, in one range.
            values = [Float](unsafeUninitializedCapacity: count) { floats, initialised in
                let raw = UnsafeMutableRawBufferPointer(floats)
                adviseHugePages(raw)
                bytesRead = file.read(into: raw, at: layout.offset + planes.lowerBound * layout.sectionBytes)
                // A file cut short since the check leaves zeros, as `OpenFile.read` does.
                raw[bytesRead...].initializeMemory(as: UInt8.self, repeating: 0)
                initialised = count
            }
        } else {
            var decoded = [Float](repeating: 0, count: count)
            decoded.withUnsafeMutableBufferPointer { out in
                bytesRead = decode(spans, planes: planes, with: decoder, into: out)
            }
            values = decoded
        }
        return MRCSlab(path: path, shape: grid.shape, planes: planes, values: values, bytesRead: bytesRead)
    }

    /// Reads the sections' spans of `spans` in chunks and decodes the planes `planes` into
    /// `out`; returns the bytes read.
    private func decode(_ spans: SlabSpans, planes: Range<Int>, with decoder: VoxelDecoder,
                        into out: UnsafeMutableBufferPointer<Float>) -> Int {
        let (columnStride, rowStride, sectionStride) = grid.fileOrderStrides
        // Output index of file voxel (c, r, s): c·columnStride + r·rowStride + s·sectionStride
        // in the whole map, less the planes before the slab.
        let slabStart = planes.lowerBound * grid.shape.x * grid.shape.y
        let perChunk = spans.wholeSections ? max(1, Self.chunkBytes / layout.sectionBytes) : 1
        var buffer = [UInt8](repeating: 0, count: spans.bytes(sectionCount: min(perChunk, spans.sections.count)))
        var bytesRead = 0
        for first in stride(from: spans.sections.lowerBound, to: spans.sections.upperBound, by: perChunk) {
            let count = min(perChunk, spans.sections.upperBound - first)
            let chunkBytes = spans.bytes(sectionCount: count)
            bytesRead += buffer.withUnsafeMutableBytes { raw in
                file.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[..<chunkBytes]),
                          at: layout.offset + first * layout.sectionBytes + spans.start)
            }
            buffer.withUnsafeBytes { raw in
                for s in first..<first + count {
                    let sectionOffset = (s - first) * layout.sectionBytes - spans.start
                    for r in spans.rows {
                        decoder.decode(raw, at: sectionOffset + r * layout.rowBytes
                                           + spans.columns.lowerBound * layout.voxelBytes,
                                       count: spans.columns.count, into: out,
                                       at: s * sectionStride + r * rowStride
                                           + spans.columns.lowerBound * columnStride - slabStart,
                                       stride: columnStride)
                    }
                }
            }
        }
        return bytesRead
    }
}

/// The columns, rows and sections of a file that hold z-planes `planes`, and the bytes of each
/// section to read for them.
struct SlabSpans {
    /// File columns, rows and sections holding the planes (all but one span the whole axis).
    let columns: Range<Int>, rows: Range<Int>, sections: Range<Int>
    /// First and one-past-last byte to read within each section, from the section's start.
    let start: Int, stop: Int
    let sectionBytes: Int

    init(header: MRCHeader, layout: DataLayout, planes: Range<Int>) {
        let order = header.axisOrder
        columns = order[0] == 3 ? planes : 0..<Int(header.columns)
        rows = order[1] == 3 ? planes : 0..<Int(header.rows)
        // No planes, no sections: nothing to read.
        sections = order[2] == 3 || planes.isEmpty ? planes : 0..<Int(header.sections)
        sectionBytes = layout.sectionBytes
        if planes.isEmpty {
            (start, stop) = (0, 0)
        } else {
            start = rows.lowerBound * layout.rowBytes + columns.lowerBound * layout.voxelBytes
            stop = (rows.upperBound - 1) * layout.rowBytes + columns.upperBound * layout.voxelBytes
        }
    }

    /// Whether whole sections are read, so that consecutive sections make one contiguous range.
    var wholeSections: Bool { stop - start == sectionBytes }

    /// Bytes of one read of `sectionCount` consecutive sections' spans (with what lies between).
    func bytes(sectionCount: Int) -> Int {
        sectionCount == 0 ? 0 : (sectionCount - 1) * sectionBytes + stop - start
    }

    /// One past the last byte read, from the start of the data.
    var end: Int { sections.isEmpty ? 0 : (sections.upperBound - 1) * sectionBytes + stop }
}
