/// The 1024-byte MRC2014 main header, field by field. Word numbers (1-based, 4 bytes each) are
/// those of the MRC2014 specification.
public struct MRCHeader: Equatable, Sendable {
    /// Words 1–3: NX, NY, NZ — columns, rows, sections.
    public var columns: Int32, rows: Int32, sections: Int32
    /// Word 4: MODE.
    public var mode: Int32
    /// Words 5–7: NXSTART, NYSTART, NZSTART — start of columns, rows, sections in the cell.
    public var columnStart: Int32, rowStart: Int32, sectionStart: Int32
    /// Words 8–10: MX, MY, MZ — cell sampling along x, y, z.
    public var sampling: XYZ<Int32>
    /// Words 11–13: CELLA, cell edges along x, y, z in Å.
    public var cellLengths: XYZ<Float>
    /// Words 14–16: CELLB, cell angles in degrees.
    public var cellAngles: XYZ<Float>
    /// Words 17–19: MAPC, MAPR, MAPS — the axis (1 = x, 2 = y, 3 = z) of columns, rows, sections.
    public var mapc: Int32, mapr: Int32, maps: Int32
    /// Words 20–22: DMIN, DMAX, DMEAN.
    public var dmin: Float, dmax: Float, dmean: Float
    /// Word 23: ISPG.
    public var spaceGroup: Int32
    /// Word 24: NSYMBT, bytes of extended header after the main header.
    public var extendedHeaderBytes: Int32
    /// Words 50–52: ORIGIN x, y, z in Å.
    public var origin: XYZ<Float>
    /// Word 54: MACHST — true when the file is little-endian.
    public var littleEndian: Bool
    /// Word 55: RMS deviation from the mean.
    public var rms: Float
    /// Words 57–256: the NLABL (word 56) labels in use, trailing blanks removed.
    public var labels: [String]
    /// What the reader tolerated in this header, one line each naming the file (a missing or
    /// MotionCor2-style map word; with `GeometryCheck.warn`, an unusable geometry).
    public var warnings: [String] = []

    /// Size of the main header in bytes.
    public static let byteCount = 1024

    /// Voxel sizes (Å) a map may have for computation: from 0.001 Å, far below any detector's
    /// pixel, to 1000 Å, far above any binned tomogram's.
    public static let voxelSizeLimits: ClosedRange<Double> = 0.001...1000

    /// Largest deviation of a cell angle from 90° (degrees) read as 90°, for writers' rounding.
    public static let angleTolerance: Float = 0.01

    /// The file's axis order as a permutation of 1, 2, 3 (columns, rows, sections).
    public var axisOrder: [Int] { [Int(mapc), Int(mapr), Int(maps)] }
}

/// Word 53 of a header, which identifies an MRC/CCP4 map.
private enum MapWord {
    /// "MAP ", as MRC2014 and CCP4 write it.
    case standard
    /// "MAP\0", as MotionCor2 writes it.
    case motionCor2
    /// Anything else, shown with non-printable bytes as "?"; old CCP4 files have no map word.
    case missing(printable: String)

    init(_ bytes: ArraySlice<UInt8>) {
        switch Array(bytes) {
        case Array("MAP ".utf8): self = .standard
        case Array("MAP".utf8) + [0]: self = .motionCor2
        default:
            let shown = bytes.map { (32...126).contains($0) ? Character(UnicodeScalar($0)) : "?" }
            self = .missing(printable: String(shown))
        }
    }
}

extension MRCHeader {
    /// Parses a main header. `path` only names the file in errors and warnings.
    ///
    /// A header without the "MAP " word is read, with a warning, when the rest of it makes a
    /// readable map (mode, box, axis order, extended header size), as mrcfile's permissive mode
    /// does: MotionCor2 writes "MAP\0", old CCP4 files have no map word. Otherwise it is not a map.
    /// - Throws: `MRCError` for a file that is not a map, an unknown mode, a bad box, axis order
    ///   or extended header size, or a stack of volumes.
    public init(bytes: [UInt8], path: String) throws {
        guard bytes.count >= MRCHeader.byteCount else {
            throw MRCError.headerTooShort(path: path, fileSize: bytes.count)
        }
        let mapWord = MapWord(bytes[208..<212])
        // MACHST: 0x44 0x44 or 0x44 0x41 little-endian, 0x11 0x11 big-endian. Files with a
        // zero or foreign stamp are judged by which byte order gives a sensible MODE.
        let little: Bool
        switch bytes[212] {
        case 0x44, 0x41: little = true
        case 0x11: little = false
        default:
            let modeLE = Int32(bitPattern: UInt32(bytes[12]) | UInt32(bytes[13]) << 8 | UInt32(bytes[14]) << 16 | UInt32(bytes[15]) << 24)
            little = (0...16).contains(modeLE)
        }
        let reader = ByteReader(bytes: bytes, littleEndian: little)
        let word = { (n: Int) -> Int32 in reader.int32(at: 4 * (n - 1)) }
        let real = { (n: Int) -> Float in reader.float32(at: 4 * (n - 1)) }

        columns = word(1); rows = word(2); sections = word(3)
        mode = word(4)
        columnStart = word(5); rowStart = word(6); sectionStart = word(7)
        sampling = XYZ(word(8), word(9), word(10))
        cellLengths = XYZ(real(11), real(12), real(13))
        cellAngles = XYZ(real(14), real(15), real(16))
        mapc = word(17); mapr = word(18); maps = word(19)
        dmin = real(20); dmax = real(21); dmean = real(22)
        spaceGroup = word(23)
        extendedHeaderBytes = word(24)
        origin = XYZ(real(50), real(51), real(52))
        littleEndian = little
        rms = real(55)
        let labelCount = max(0, min(10, Int(word(56))))
        labels = (0..<labelCount).map { i in
            let start = 224 + 80 * i
            let text = String(decoding: bytes[start..<start + 80], as: UTF8.self)
            return String(text.reversed().drop(while: { $0 == " " || $0 == "\0" }).reversed())
        }

        switch mapWord {
        case .standard:
            try checkStructure(path: path)
        case .motionCor2:
            try checkStructure(path: path)
            warnings.append("\(path): word 53 is \"MAP\\0\" (as MotionCor2 writes it), not \"MAP \"; read as a map")
        case let .missing(word):
            do { try checkStructure(path: path) } catch { throw MRCError.notMRC(path: path, mapWord: word) }
            warnings.append("\(path): word 53 is \"\(word)\", not \"MAP \"; "
                            + "read as an old CCP4 map without the map word")
        }
    }

    /// Checks what makes the words a readable map: mode, box, axis order (0,0,0 read as 1,2,3),
    /// extended header size, and a single volume.
    private mutating func checkStructure(path: String) throws {
        guard MRCMode(rawValue: mode) != nil else {
            throw MRCError.unsupportedMode(path: path, mode: mode)
        }
        guard columns > 0, rows > 0, sections > 0 else {
            throw MRCError.invalidBox(path: path, nx: columns, ny: rows, nz: sections)
        }
        // Some old writers leave MAPC/MAPR/MAPS at 0: that means the standard order.
        if mapc == 0 && mapr == 0 && maps == 0 { (mapc, mapr, maps) = (1, 2, 3) }
        guard Set([mapc, mapr, maps]) == Set([1, 2, 3]) else {
            throw MRCError.invalidAxisOrder(path: path, mapc: mapc, mapr: mapr, maps: maps)
        }
        guard extendedHeaderBytes >= 0 else {
            throw MRCError.invalidExtendedHeader(path: path, bytes: extendedHeaderBytes)
        }
        // MRC2014: ISPG 401–630 marks a stack of volumes of MZ sections each.
        guard !(401...630).contains(spaceGroup) || sections == sampling.z else {
            throw MRCError.volumeStack(path: path, spaceGroup: spaceGroup, nz: sections, mz: sampling.z)
        }
    }

    /// Why the geometry of this header cannot be computed with, first problem first: a voxel
    /// size outside `voxelSizeLimits` (or not finite), a non-finite ORIGIN, cell angles other
    /// than 90° within `angleTolerance` (0, 0, 0, as some writers leave them, counts as 90°).
    /// Empty when the geometry is usable.
    public func geometryErrors(path: String) -> [MRCError] {
        let grid = grid
        var errors: [MRCError] = []
        for axis in 0..<3 where !MRCHeader.voxelSizeLimits.contains(grid.voxelSize[axis]) {
            errors.append(.invalidVoxelSize(path: path, axis: ["x", "y", "z"][axis], voxelSize: grid.voxelSize[axis],
                                            cell: cellLengths[axis], sampling: grid.sampling[axis]))
        }
        if !(origin.x.isFinite && origin.y.isFinite && origin.z.isFinite) {
            errors.append(.invalidOrigin(path: path, origin: origin))
        }
        let square = cellAngles.array.allSatisfy { abs($0 - 90) < MRCHeader.angleTolerance }
        if !square && cellAngles != XYZ(0, 0, 0) {
            errors.append(.nonOrthogonalCell(path: path, angles: cellAngles))
        }
        return errors
    }

    /// The grid this header describes, with axes normalised to x, y, z.
    public var grid: Grid {
        let order = axisOrder
        var shape = XYZ(0, 0, 0)
        var start = XYZ(0, 0, 0)
        let counts = [columns, rows, sections]
        let starts = [columnStart, rowStart, sectionStart]
        for (fileAxis, axis) in order.enumerated() {
            shape[axis - 1] = Int(counts[fileAxis])
            start[axis - 1] = Int(starts[fileAxis])
        }
        // MX/MY/MZ of 0 (seen in the wild) fall back to the box.
        let m = XYZ(sampling.x > 0 ? Int(sampling.x) : shape.x,
                    sampling.y > 0 ? Int(sampling.y) : shape.y,
                    sampling.z > 0 ? Int(sampling.z) : shape.z)
        let voxel = XYZ(Double(cellLengths.x) / Double(m.x), Double(cellLengths.y) / Double(m.y),
                        Double(cellLengths.z) / Double(m.z))
        var grid = Grid(shape: shape, voxelSize: voxel,
                        origin: XYZ(Double(origin.x), Double(origin.y), Double(origin.z)),
                        start: start, axisOrder: order)
        grid.sampling = m
        // Angles of 0, 0, 0 (left so by some writers) mean an orthogonal cell.
        grid.cellAngles = cellAngles == XYZ(0, 0, 0) ? XYZ(90, 90, 90)
            : XYZ(Double(cellAngles.x), Double(cellAngles.y), Double(cellAngles.z))
        grid.spaceGroup = Int(spaceGroup)
        return grid
    }

    /// A little-endian mode-2 header for writing `grid` with `statistics` and `labels`
    /// (at most 10 of 80 characters each).
    public init(writing grid: Grid, statistics: MapStatistics, labels: [String]) {
        let order = grid.axisOrder
        let along = { (fileAxis: Int) -> Int in order[fileAxis] - 1 }
        columns = Int32(grid.shape[along(0)])
        rows = Int32(grid.shape[along(1)])
        sections = Int32(grid.shape[along(2)])
        mode = MRCMode.float32.rawValue
        columnStart = Int32(grid.start[along(0)])
        rowStart = Int32(grid.start[along(1)])
        sectionStart = Int32(grid.start[along(2)])
        sampling = XYZ(Int32(grid.sampling.x), Int32(grid.sampling.y), Int32(grid.sampling.z))
        cellLengths = XYZ(Float(grid.voxelSize.x * Double(grid.sampling.x)),
                          Float(grid.voxelSize.y * Double(grid.sampling.y)),
                          Float(grid.voxelSize.z * Double(grid.sampling.z)))
        cellAngles = XYZ(Float(grid.cellAngles.x), Float(grid.cellAngles.y), Float(grid.cellAngles.z))
        mapc = Int32(order[0]); mapr = Int32(order[1]); maps = Int32(order[2])
        dmin = statistics.minimum
        dmax = statistics.maximum
        dmean = Float(statistics.mean)
        spaceGroup = Int32(grid.spaceGroup)
        extendedHeaderBytes = 0
        origin = XYZ(Float(grid.origin.x), Float(grid.origin.y), Float(grid.origin.z))
        littleEndian = true
        rms = Float(statistics.rms)
        self.labels = Array(labels.prefix(10).map { String($0.prefix(80)) })
    }

    /// The 1024 bytes of this header, little-endian, MRC2014 (NVERSION 20140).
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: MRCHeader.byteCount)
        func put(_ n: Int, _ value: Int32) {
            let v = UInt32(bitPattern: value)
            for b in 0..<4 { out[4 * (n - 1) + b] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(b))) }
        }
        func put(_ n: Int, _ value: Float) { put(n, Int32(bitPattern: value.bitPattern)) }
        put(1, columns); put(2, rows); put(3, sections); put(4, mode)
        put(5, columnStart); put(6, rowStart); put(7, sectionStart)
        put(8, sampling.x); put(9, sampling.y); put(10, sampling.z)
        put(11, cellLengths.x); put(12, cellLengths.y); put(13, cellLengths.z)
        put(14, cellAngles.x); put(15, cellAngles.y); put(16, cellAngles.z)
        put(17, mapc); put(18, mapr); put(19, maps)
        put(20, dmin); put(21, dmax); put(22, dmean)
        put(23, spaceGroup); put(24, extendedHeaderBytes)
        put(28, Int32(20140))
        put(50, origin.x); put(51, origin.y); put(52, origin.z)
        for (i, c) in "MAP ".utf8.enumerated() { out[208 + i] = c }
        out[212] = 0x44; out[213] = 0x44
        put(55, rms)
        put(56, Int32(labels.count))
        for (i, label) in labels.enumerated() {
            var text = Array(label.utf8.prefix(80))
            text += [UInt8](repeating: 0x20, count: 80 - text.count)
            out.replaceSubrange(224 + 80 * i ..< 224 + 80 * (i + 1), with: text)
        }
        return out
    }
}

/// Reads fixed-width numbers from a byte array in a given byte order.
struct ByteReader {
    let bytes: [UInt8]
    let littleEndian: Bool

    func uint32(at offset: Int) -> UInt32 {
        let b = (0..<4).map { UInt32(bytes[offset + $0]) }
        return littleEndian ? b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24
                            : b[3] | b[2] << 8 | b[1] << 16 | b[0] << 24
    }

    func int32(at offset: Int) -> Int32 { Int32(bitPattern: uint32(at: offset)) }

    func float32(at offset: Int) -> Float { Float(bitPattern: uint32(at: offset)) }
}
