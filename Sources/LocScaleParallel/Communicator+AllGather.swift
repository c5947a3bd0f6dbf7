import CMPI

extension Communicator {
    /// Every rank's `values` (any count on each), concatenated in rank order, and the count of
    /// each rank, on every rank (`MPI_Allgatherv`).
    public func allGatherVariable(_ values: [Double]) throws -> (values: [Double], counts: [Int]) {
        var count = Int32(values.count)
        var counts = [Int32](repeating: 0, count: size)
        try Self.check("MPI_Allgather", MPI_Allgather(&count, 1, localscale_mpi_int(), &counts, 1,
                                                      localscale_mpi_int(), comm))
        var displacements = [Int](repeating: 0, count: size)
        for r in 1..<size { displacements[r] = displacements[r - 1] + Int(counts[r - 1]) }
        let total = displacements[size - 1] + Int(counts[size - 1])
        guard total <= Int(Int32.max) else {
            throw MPIError(function: "localscale",
                           message: "gathering \(total) doubles exceeds MPI's 32-bit counts")
        }
        var offsets = displacements.map { Int32($0) }
        var receive = [Double](repeating: 0, count: total)
        try values.withUnsafeBufferPointer { send in
            try receive.withUnsafeMutableBufferPointer { out in
                try Self.check("MPI_Allgatherv", MPI_Allgatherv(send.baseAddress, count, localscale_mpi_double(),
                                                                out.baseAddress, &counts, &offsets,
                                                                localscale_mpi_double(), comm))
            }
        }
        return (receive, counts.map(Int.init))
    }
}
