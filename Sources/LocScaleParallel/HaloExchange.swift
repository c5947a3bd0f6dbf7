extension Communicator {
    /// Fills the halo planes of `slab` — this rank's `held` planes, `planeStride` floats each,
    /// whose own `core` planes are already in place — from the ranks that own them, and sends
    /// this rank's planes to the ranks whose halos they are, as `transfers` plans it (collective).
    public func exchangeHalo(_ slab: UnsafeMutableBufferPointer<Float>, held: Range<Int>, core: Range<Int>,
                             planeStride: Int, transfers: [PlaneTransfer]) throws {
        func span(_ planes: Range<Int>) -> Range<Int> {
            (planes.lowerBound - held.lowerBound) * planeStride ..< (planes.upperBound - held.lowerBound) * planeStride
        }
        let sends = transfers.filter { $0.from == rank }.map { t in
            (rank: t.to, values: UnsafeBufferPointer(rebasing: slab[span(t.planes)]))
        }
        let receives = transfers.filter { $0.to == rank }.map { t in
            (rank: t.from, buffer: UnsafeMutableBufferPointer(rebasing: slab[span(t.planes)]))
        }
        try exchange(sends: sends, receives: receives)
    }

    /// This rank's `held` planes: its own `core` planes (`local`) plus the halo planes received
    /// from their owners (collective).
    public func planes(_ held: Range<Int>, core: Range<Int>, local: UnsafeBufferPointer<Float>, planeStride: Int,
                       transfers: [PlaneTransfer]) throws -> [Float] {
        var values = [Float](repeating: 0, count: held.count * planeStride)
        try values.withUnsafeMutableBufferPointer { slab in
            if !core.isEmpty {
                let at = (core.lowerBound - held.lowerBound) * planeStride
                _ = UnsafeMutableBufferPointer(rebasing: slab[at ..< at + core.count * planeStride])
                    .update(fromContentsOf: local[0 ..< core.count * planeStride])
            }
            try exchangeHalo(slab, held: held, core: core, planeStride: planeStride, transfers: transfers)
        }
        return values
    }
}
