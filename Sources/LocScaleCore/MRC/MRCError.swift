/// Why an MRC/CCP4 file could not be read or written. The description is one line that names
/// the file and the problem.
public enum MRCError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case headerTooShort(path: String, fileSize: Int)
    case notMRC(path: String, mapWord: String)
    case unsupportedMode(path: String, mode: Int32)
    case invalidBox(path: String, nx: Int32, ny: Int32, nz: Int32)
    case invalidAxisOrder(path: String, mapc: Int32, mapr: Int32, maps: Int32)
    case truncated(path: String, expectedBytes: Int, availableBytes: Int)

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
        case let .truncated(path, expected, available):
            return "\(path): data truncated: the header promises \(expected) bytes of data, the file holds \(available)"
        }
    }
}
