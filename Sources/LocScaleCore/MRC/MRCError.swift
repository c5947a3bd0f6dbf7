import Foundation

/// Why an MRC/CCP4 file could not be read or written. The description is one line that names
/// the file and the problem.
public enum MRCError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case headerTooShort(path: String, fileSize: Int)
    case notMRC(path: String, mapWord: String)
    case unsupportedMode(path: String, mode: Int32)
    case invalidBox(path: String, nx: Int32, ny: Int32, nz: Int32)
    case invalidAxisOrder(path: String, mapc: Int32, mapr: Int32, maps: Int32)
    case invalidExtendedHeader(path: String, bytes: Int32)
    case volumeStack(path: String, spaceGroup: Int32, nz: Int32, mz: Int32)
    /// The data would take more than `limitBytes` as 32-bit floats (or more bytes than an `Int`
    /// counts); `nx`, `ny`, `nz` are the file's NX, NY, NZ.
    case boxTooLarge(path: String, nx: Int32, ny: Int32, nz: Int32, limitBytes: Int)
    case truncated(path: String, expectedBytes: Int, availableBytes: Int)
    /// `voxelSize` (Å) along `axis` ("x", "y" or "z") is CELLA `cell` (Å) over `sampling` voxels.
    case invalidVoxelSize(path: String, axis: String, voxelSize: Double, cell: Float, sampling: Int)
    case invalidOrigin(path: String, origin: XYZ<Float>)
    case nonOrthogonalCell(path: String, angles: XYZ<Float>)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "\(path): cannot open: \(reason)"
        case let .headerTooShort(path, size):
            return "\(path): not an MRC/CCP4 map: \(size) bytes, shorter than the 1024-byte header"
        case let .notMRC(path, word):
            return "\(path): not an MRC/CCP4 map: word 53 is \"\(word)\", expected \"MAP \""
        case let .unsupportedMode(path, mode):
            return "\(path): unsupported MRC mode \(mode) (readable: 0, 1, 2, 6, 12)"
        case let .invalidBox(path, nx, ny, nz):
            return "\(path): invalid box NX, NY, NZ = \(nx), \(ny), \(nz)"
        case let .invalidAxisOrder(path, c, r, s):
            return "\(path): MAPC/MAPR/MAPS = \(c),\(r),\(s) is not a permutation of 1,2,3"
        case let .invalidExtendedHeader(path, bytes):
            return "\(path): invalid extended header size NSYMBT = \(bytes) bytes (expected ≥ 0)"
        case let .volumeStack(path, ispg, nz, mz):
            return "\(path): a stack of volumes (ISPG \(ispg), NZ \(nz) = volumes × MZ \(mz)): "
                + "localscale reads one volume; split the stack first"
        case let .boxTooLarge(path, nx, ny, nz, limit):
            let gigabytes = Double(nx) * Double(ny) * Double(nz) * 4 / 1e9
            return "\(path): box NX, NY, NZ = \(nx), \(ny), \(nz) needs \(short(gigabytes)) GB as 32-bit floats, "
                + "more than the \(short(Double(limit) / 1e9)) GB of physical memory"
        case let .truncated(path, expected, available):
            return "\(path): data truncated: the header promises \(expected) bytes of data, the file holds \(available)"
        case let .invalidVoxelSize(path, axis, size, cell, sampling):
            let limits = MRCHeader.voxelSizeLimits
            return "\(path): voxel size \(short(size)) Å along \(axis) (CELLA \(short(cell)) / M\(axis.uppercased()) "
                + "\(sampling)): must be finite and between \(short(limits.lowerBound)) "
                + "and \(short(limits.upperBound)) Å"
        case let .invalidOrigin(path, origin):
            return "\(path): ORIGIN (\(short(origin.x)), \(short(origin.y)), \(short(origin.z))) Å is not finite"
        case let .nonOrthogonalCell(path, angles):
            return "\(path): cell angles \(short(angles.x)), \(short(angles.y)), \(short(angles.z))° are not 90°: "
                + "the program assumes an orthogonal grid"
        }
    }
}

/// `x` in at most four decimals when that shows it (0.001, 22, -7.5), else with four
/// significant digits in exponent form (1e-30, 3.689e+10, nan, inf).
private func short<T: BinaryFloatingPoint>(_ x: T) -> String {
    let value = Double(x)
    let magnitude = abs(value)
    return magnitude == 0 || (magnitude >= 1e-3 && magnitude < 1e7) ? formatDecimal(value) : String(format: "%.4g", value)
}
