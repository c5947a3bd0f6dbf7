import LocScaleCore
import LocScaleParallel

/// The experimental map's planes as every run forms them: the map's, or the float32 average
/// `0.5 · (a + b)` of two half maps' (as LocScale 2 averages them), checked finite *after*
/// averaging — two finite half maps near ±3.4e38 average to ±Inf.
enum ExperimentalPlanes {
    /// Reads `planes` of each of `readers` (one map, or two half maps whose grids were checked
    /// to agree) and checks the planes `checked` (this rank's own, within `planes`) of the result
    /// finite. Collective: every failure reaches every rank as one `AgreedFailure`, the first
    /// failing rank's in `order` (default: rank order; the ranks in the order of their `checked`
    /// planes); with each plane checked by one rank, a non-finite value is then the first in the
    /// map. A rank with no planes to read reads nothing but still takes part.
    /// - Returns: the planes' values, (z, y, x) order, x fastest, and the bytes read.
    static func read(_ readers: [MRCSlabReader], planes: Range<Int>, checked: Range<Int>, order: [Int]? = nil,
                     communicator comm: Communicator) throws -> (values: [Float], bytesRead: Int) {
        precondition(readers.count == 1 || readers.count == 2, "one map or two half maps")
        precondition(checked.isEmpty || planes.contains(checked.lowerBound) && checked.upperBound <= planes.upperBound,
                     "checked planes outside the planes read")
        let slabs = try readers.map { reader in
            try comm.agree(order: order) { planes.isEmpty ? nil : try reader.read(planes: planes) }
        }.compactMap { $0 }
        var values = slabs.first?.values ?? []
        if slabs.count == 2 {
            for i in values.indices { values[i] = 0.5 * (values[i] + slabs[1].values[i]) }
        }
        let shape = readers[0].grid.shape, plane = shape.x * shape.y
        let inner = (checked.lowerBound - planes.lowerBound) * plane
            ..< (checked.upperBound - planes.lowerBound) * plane
        try comm.agree(order: order) {
            guard let index = values[inner].firstIndex(where: { !$0.isFinite }) else { return }
            // Name the half map that holds the bad value, or both when only their average is bad.
            let culprit = slabs.first { !$0.values[index].isFinite }
            let i = index - inner.lowerBound
            let (x, y, z) = (i % shape.x, (i / shape.x) % shape.y, checked.lowerBound + i / plane)
            if culprit != nil || slabs.count == 1 {
                throw ScalingInputError.nonFinite(path: (culprit ?? slabs[0]).path, x: x, y: y, z: z,
                                                  value: (culprit ?? slabs[0]).values[index])
            }
            throw ScalingInputError.nonFiniteAverage(paths: slabs.map(\.path), x: x, y: y, z: z, value: values[index])
        }
        return (values, slabs.reduce(0) { $0 + $1.bytesRead })
    }
}
