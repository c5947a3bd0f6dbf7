extension Communicator {
    /// This rank's `held` planes: its own `core` planes (`local`, `planeStride` floats per plane)
    /// plus the halo planes received from their owners, as `transfers` plans them (collective).
    public func planes(_ held: Range<Int>, core: Range<Int>, local: UnsafeBufferPointer<Float>, planeStride: Int,
                       transfers: [PlaneTransfer]) throws -> [Float] {
        var values = [Float](repeating: 0, count: held.count * planeStride)
        try values.withUnsafeMutableBufferPointer { slab in
            func span(_ planes: Range<Int>, from first: Int) -> Range<Int> {
                (planes.lowerBound - first) * planeStride ..< (planes.upperBound - first) * planeStride
            }
            if !core.isEmpty {
                UnsafeMutableBufferPointer(rebasing: slab[span(core, from: held.lowerBound)])
                    .update(fromContentsOf: local[0 ..< core.count * planeStride])
            }
            let sends = transfers.filter { $0.from == rank }.map { t in
                (rank: t.to, values: UnsafeBufferPointer(rebasing: local[span(t.planes, from: core.lowerBound)]))
            }
            let receives = transfers.filter { $0.to == rank }.map { t in
                (rank: t.from, buffer: UnsafeMutableBufferPointer(rebasing: slab[span(t.planes, from: held.lowerBound)]))
            }
            try exchange(sends: sends, receives: receives)
        }
        return values
    }
}
