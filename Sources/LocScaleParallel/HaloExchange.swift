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

    /// This rank's `wanted` planes of a map whose planes `owned` this rank holds in `local`
    /// (`planeStride` floats each): the planes of `owned` it wants are copied, the others
    /// received from their owners, as `transfers` (`planeTransfers`) plans it; this rank's planes
    /// go to the ranks that want them (collective).
    public func planes(_ wanted: Range<Int>, owned: Range<Int>, local: UnsafeBufferPointer<Float>, planeStride: Int,
                       transfers: [PlaneTransfer]) throws -> [Float] {
        precondition(local.count == owned.count * planeStride, "local does not hold the owned planes")
        func span(_ planes: Range<Int>, from first: Int) -> Range<Int> {
            (planes.lowerBound - first) * planeStride ..< (planes.upperBound - first) * planeStride
        }
        var values = [Float](repeating: 0, count: wanted.count * planeStride)
        try values.withUnsafeMutableBufferPointer { slab in
            // Owned and wanted planes may be disjoint either way round (a rank's slab above the
            // planes it wants): no range then.
            let low = max(owned.lowerBound, wanted.lowerBound), high = min(owned.upperBound, wanted.upperBound)
            if low < high {
                let kept = low ..< high
                _ = UnsafeMutableBufferPointer(rebasing: slab[span(kept, from: wanted.lowerBound)])
                    .update(fromContentsOf: local[span(kept, from: owned.lowerBound)])
            }
            let sends = transfers.filter { $0.from == rank }.map { t in
                (rank: t.to, values: UnsafeBufferPointer(rebasing: local[span(t.planes, from: owned.lowerBound)]))
            }
            let receives = transfers.filter { $0.to == rank }.map { t in
                (rank: t.from,
                 buffer: UnsafeMutableBufferPointer(rebasing: slab[span(t.planes, from: wanted.lowerBound)]))
            }
            try exchange(sends: sends, receives: receives)
        }
        return values
    }
}
