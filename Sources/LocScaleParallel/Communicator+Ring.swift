import CMPI

extension Communicator {
    /// Shows every other rank's `values` to `visit`, with the rank they come from, one list at a
    /// time: the lists go round the ranks in a ring (each step sends the list in hand to the next
    /// rank and takes the previous rank's), so a rank holds its own list and one other at once,
    /// never all of them. Collective; nothing happens on one rank.
    public func visitRing(_ values: [Double], _ visit: (_ origin: Int, _ values: [Double]) -> Void) throws {
        guard size > 1 else { return }
        let next = Int32((rank + 1) % size), previous = Int32((rank + size - 1) % size)
        var inHand = values
        for step in 1..<size {
            var sending = Int64(inHand.count), receiving: Int64 = 0
            try Self.check("MPI_Sendrecv", MPI_Sendrecv(&sending, 1, localscale_mpi_int64(), next, 21,
                                                        &receiving, 1, localscale_mpi_int64(), previous, 21, comm,
                                                        localscale_mpi_status_ignore()))
            let largest = max(sending, receiving)
            try agree(largest > Int64(Int32.max) ? "passing \(largest) doubles exceeds MPI's 32-bit counts" : nil)
            var received = [Double](repeating: 0, count: Int(receiving))
            try inHand.withUnsafeBufferPointer { send in
                try received.withUnsafeMutableBufferPointer { out in
                    try Self.check("MPI_Sendrecv", MPI_Sendrecv(send.baseAddress, Int32(send.count),
                                                                localscale_mpi_double(), next, 22, out.baseAddress,
                                                                Int32(out.count), localscale_mpi_double(), previous,
                                                                22, comm, localscale_mpi_status_ignore()))
                }
            }
            inHand = received
            visit((rank - step + size) % size, inHand)
        }
    }
}
