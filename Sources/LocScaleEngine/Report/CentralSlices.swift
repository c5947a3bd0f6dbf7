import LocScaleCore
import LocScaleParallel

/// The three central planes of a map — x = nx/2, y = ny/2, z = nz/2 — for the report's images,
/// cut from z-slabs: each slab gives its rows of the x and y planes and, when it holds it, the
/// whole z plane, so that ranks gather three planes, never a map.
struct CentralSlices: Sendable {
    let shape: XYZ<Int>
    /// z = nz/2: ny rows of nx values.
    let xy: [Float]
    /// y = ny/2: nz rows of nx values.
    let xz: [Float]
    /// x = nx/2: nz rows of ny values.
    let yz: [Float]

    /// This slab's parts of the planes: the z plane when the slab holds it (else empty), its
    /// rows of the y plane, and its rows of the x plane. `values` are planes `planes`, x fastest.
    static func parts(of values: [Float], planes: Range<Int>, shape s: XYZ<Int>) -> [[Float]] {
        let plane = s.x * s.y
        let middle = s.z / 2 - planes.lowerBound
        let xy = planes.contains(s.z / 2) ? Array(values[middle * plane ..< (middle + 1) * plane]) : []
        var xz: [Float] = [], yz: [Float] = []
        xz.reserveCapacity(planes.count * s.x)
        yz.reserveCapacity(planes.count * s.y)
        for p in 0..<planes.count {
            let row = p * plane + (s.y / 2) * s.x
            xz += values[row ..< row + s.x]
            for y in 0..<s.y { yz.append(values[p * plane + y * s.x + s.x / 2]) }
        }
        return [xy, xz, yz]
    }

    /// The slices of a whole map (`values`, x fastest).
    init(wholeMap values: [Float], shape: XYZ<Int>) {
        let parts = Self.parts(of: values, planes: 0..<shape.z, shape: shape)
        self.init(shape: shape, xy: parts[0], xz: parts[1], yz: parts[2])
    }

    init(shape: XYZ<Int>, xy: [Float], xz: [Float], yz: [Float]) {
        self.shape = shape
        self.xy = xy
        self.xz = xz
        self.yz = yz
    }

    /// The slices of the map whose planes `planes` every rank passes (`layout`: every rank's
    /// planes in rank order), on rank 0; nil elsewhere. Collective.
    static func gathered(_ values: [Float], planes: Range<Int>, layout: [Range<Int>], shape s: XYZ<Int>,
                         communicator comm: Communicator) throws -> CentralSlices? {
        let parts = Self.parts(of: values, planes: planes, shape: s)
        let holder = layout.map { $0.contains(s.z / 2) }
        let xy = try comm.gather(parts[0], counts: holder.map { $0 ? s.x * s.y : 0 },
                                 displacements: [Int](repeating: 0, count: layout.count), total: s.x * s.y)
        let xz = try comm.gather(parts[1], counts: layout.map { $0.count * s.x },
                                 displacements: layout.map { $0.lowerBound * s.x }, total: s.z * s.x)
        let yz = try comm.gather(parts[2], counts: layout.map { $0.count * s.y },
                                 displacements: layout.map { $0.lowerBound * s.y }, total: s.z * s.y)
        return comm.isRoot ? CentralSlices(shape: s, xy: xy, xz: xz, yz: yz) : nil
    }

    /// The images' titles and rows (bottom row first), in the order x, y, z.
    var images: [(title: String, rows: [[Float]])] {
        func rows(_ values: [Float], _ width: Int) -> [[Float]] {
            stride(from: 0, to: values.count, by: width).map { Array(values[$0 ..< $0 + width]) }
        }
        return [("x = \(shape.x / 2)", rows(yz, shape.y)), ("y = \(shape.y / 2)", rows(xz, shape.x)),
                ("z = \(shape.z / 2)", rows(xy, shape.x))]
    }
}
