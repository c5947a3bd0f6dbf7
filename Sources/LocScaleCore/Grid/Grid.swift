/// A triple of values along x, y and z, in that order.
public struct XYZ<Scalar: Equatable & Sendable>: Equatable, Sendable {
    public var x: Scalar
    public var y: Scalar
    public var z: Scalar

    public init(_ x: Scalar, _ y: Scalar, _ z: Scalar) {
        self.x = x
        self.y = y
        self.z = z
    }

    /// The components as `[x, y, z]`.
    public var array: [Scalar] { [x, y, z] }

    /// The component of axis `axis` (0 = x, 1 = y, 2 = z).
    public subscript(axis: Int) -> Scalar {
        get { axis == 0 ? x : (axis == 1 ? y : z) }
        set {
            switch axis {
            case 0: x = newValue
            case 1: y = newValue
            default: z = newValue
            }
        }
    }
}

/// The geometry of a map as read from (and written back to) an MRC/CCP4 header.
///
/// In memory every map is an array in (z, y, x) order with x fastest, whatever the file's axis
/// order; `axisOrder` remembers the file's order so that outputs are written in it again.
public struct Grid: Equatable, Sendable {
    /// Number of voxels along x, y and z.
    public var shape: XYZ<Int>
    /// Voxel size along x, y and z in Å (`cella / mxyz`).
    public var voxelSize: XYZ<Double>
    /// The header's ORIGIN field (words 50–52), x, y, z in Å.
    public var origin: XYZ<Double>
    /// Index of the first voxel along x, y and z in the unit cell (NXSTART… mapped to axes).
    public var start: XYZ<Int>
    /// Unit-cell sampling MX, MY, MZ (voxels per cell edge along x, y, z).
    public var sampling: XYZ<Int>
    /// Unit-cell angles α, β, γ in degrees.
    public var cellAngles: XYZ<Double>
    /// File axis order: which axis (1 = x, 2 = y, 3 = z) runs along columns, rows, sections
    /// (MAPC, MAPR, MAPS).
    public var axisOrder: [Int]
    /// Space group number (ISPG).
    public var spaceGroup: Int

    /// A grid with x fastest (MAPC/MAPR/MAPS = 1,2,3), unit cell equal to the box, no offset.
    public init(shape: XYZ<Int>, voxelSize: XYZ<Double>, origin: XYZ<Double> = XYZ(0, 0, 0),
                start: XYZ<Int> = XYZ(0, 0, 0), axisOrder: [Int] = [1, 2, 3]) {
        self.shape = shape
        self.voxelSize = voxelSize
        self.origin = origin
        self.start = start
        self.sampling = shape
        self.cellAngles = XYZ(90, 90, 90)
        self.axisOrder = axisOrder
        self.spaceGroup = 1
    }

    /// Number of voxels in the box.
    public var voxelCount: Int { shape.x * shape.y * shape.z }

    /// Mean of the three voxel sizes, in Å.
    public var meanVoxelSize: Double { (voxelSize.x + voxelSize.y + voxelSize.z) / 3 }

    /// Position in Å of voxel (0, 0, 0): the ORIGIN field when it is non-zero (ChimeraX's rule),
    /// else `start · voxelSize`.
    public var firstVoxelPosition: XYZ<Double> {
        if origin != XYZ(0, 0, 0) { return origin }
        return XYZ(Double(start.x) * voxelSize.x, Double(start.y) * voxelSize.y,
                   Double(start.z) * voxelSize.z)
    }

    /// Steps in the (z, y, x) array of one column, row and section of the file's axis order.
    public var fileOrderStrides: (column: Int, row: Int, section: Int) {
        let axisStride = [1, shape.x, shape.x * shape.y]
        return (axisStride[axisOrder[0] - 1], axisStride[axisOrder[1] - 1], axisStride[axisOrder[2] - 1])
    }

    /// Linear index of voxel (x, y, z) in the (z, y, x) array.
    @inline(__always)
    public func index(x: Int, y: Int, z: Int) -> Int { (z * shape.y + y) * shape.x + x }
}

/// Encoded as `{"x": …, "y": …, "z": …}` (for job descriptions and run plans).
extension XYZ: Codable where Scalar: Codable {}
