/// MRC2014 data modes that `localscale` reads. Output is always `.float32`.
public enum MRCMode: Int32, CaseIterable, Sendable {
    /// Signed 8-bit integers.
    case int8 = 0
    /// Signed 16-bit integers.
    case int16 = 1
    /// 32-bit IEEE floats.
    case float32 = 2
    /// Unsigned 16-bit integers.
    case uint16 = 6
    /// 16-bit IEEE floats.
    case float16 = 12

    /// Bytes per voxel on disk.
    public var byteWidth: Int {
        switch self {
        case .int8: return 1
        case .int16, .uint16, .float16: return 2
        case .float32: return 4
        }
    }

    /// Short human name, e.g. "2 (float32)".
    public var label: String { "\(rawValue) (\(self))" }
}
