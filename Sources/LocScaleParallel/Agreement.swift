import CMPI

/// A failure agreed on by every rank: the line of the lowest rank that failed, naming the file
/// and the problem.
public struct AgreedFailure: Error, CustomStringConvertible, Equatable {
    public let description: String
}

extension Communicator {
    /// Every rank passes the line of its own failure (nil when it did not fail); every rank gets
    /// the line of the lowest failing rank, or nil when none failed. Collective.
    public func firstFailure(_ local: String?) throws -> String? {
        var mine = Int32(local == nil ? size : rank), first: Int32 = 0
        try Self.check("MPI_Allreduce",
                       MPI_Allreduce(&mine, &first, 1, localscale_mpi_int(), localscale_mpi_min(), comm))
        guard first < size else { return nil }
        var line = Array((local ?? "").utf8)
        var count = Int64(line.count)
        try Self.check("MPI_Bcast", MPI_Bcast(&count, 1, localscale_mpi_int64(), first, comm))
        if rank != Int(first) { line = [UInt8](repeating: 0, count: Int(count)) }
        try Self.check("MPI_Bcast", MPI_Bcast(&line, Int32(count), localscale_mpi_byte(), first, comm))
        return String(decoding: line, as: UTF8.self)
    }

    /// Throws `AgreedFailure` on every rank when any rank passes a failure line. Collective.
    public func agree(_ local: String?) throws {
        if let line = try firstFailure(local) { throw AgreedFailure(description: line) }
    }

    /// Runs `body` and agrees on its failure: every rank throws the lowest failing rank's line
    /// (the error's description) when any rank's `body` throws. Collective.
    public func agree<T>(_ body: () throws -> T) throws -> T {
        let result = Result { try body() }
        switch result {
        case .success: try agree(nil)
        case let .failure(error): try agree("\(error)")
        }
        return try result.get()
    }

    /// Folds `step` over the ranks in rank order: rank 0 starts from `initial`, each next rank
    /// from the previous rank's result; every rank gets the last rank's. A sum over the slabs
    /// made so rounds exactly as one process's loop over the whole map. Collective.
    public func fold(_ initial: Double, _ step: (Double) -> Double) throws -> Double {
        try fold([initial]) { [step($0[0])] }[0]
    }

    /// `fold` of several running values at once (`step` returns as many as it is given).
    public func fold(_ initial: [Double], _ step: ([Double]) -> [Double]) throws -> [Double] {
        var value = initial
        let count = Int32(initial.count)
        if rank > 0 {
            try Self.check("MPI_Recv", MPI_Recv(&value, count, localscale_mpi_double(), Int32(rank - 1), 8, comm,
                                                localscale_mpi_status_ignore()))
        }
        value = step(value)
        precondition(value.count == initial.count, "fold: the step changed the number of values")
        if rank < size - 1 {
            try Self.check("MPI_Send", MPI_Send(&value, count, localscale_mpi_double(), Int32(rank + 1), 8, comm))
        }
        try Self.check("MPI_Bcast", MPI_Bcast(&value, count, localscale_mpi_double(), Int32(size - 1), comm))
        return value
    }

    /// The element-wise minimum over all ranks of `values`, on every rank.
    public func allReduceMin(_ values: [Double]) throws -> [Double] {
        try allReduce(values, localscale_mpi_min())
    }

    /// The element-wise maximum over all ranks of `values`, on every rank.
    public func allReduceMax(_ values: [Double]) throws -> [Double] {
        try allReduce(values, localscale_mpi_max())
    }

    private func allReduce(_ values: [Double], _ operation: MPI_Op) throws -> [Double] {
        var send = values
        var receive = [Double](repeating: 0, count: values.count)
        try Self.check("MPI_Allreduce", MPI_Allreduce(&send, &receive, Int32(values.count), localscale_mpi_double(),
                                                      operation, comm))
        return receive
    }
}
