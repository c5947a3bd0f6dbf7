import CMPI

/// A failure agreed on by every rank: the line of the first rank that failed (`firstFailure`),
/// naming the file and the problem.
public struct AgreedFailure: Error, CustomStringConvertible, Equatable {
    public let description: String
}

extension Communicator {
    /// Every rank passes the line of its own failure (nil when it did not fail); every rank gets
    /// the line of the first failing rank in `order` (default: rank order, the lowest failing
    /// rank), or nil when none failed. Collective; `order` (every rank once) is the same on every
    /// rank — e.g. the ranks in the order of their planes (`RankOrder`), so that the line names
    /// the failure one process would have found first.
    public func firstFailure(_ local: String?, order: [Int]? = nil) throws -> String? {
        let order = RankOrder(order, size: size)
        var mine = Int32(local == nil ? size : order.position(of: rank)), first: Int32 = 0
        try Self.check("MPI_Allreduce",
                       MPI_Allreduce(&mine, &first, 1, localscale_mpi_int(), localscale_mpi_min(), comm))
        guard first < size else { return nil }
        let root = Int32(order.ranks[Int(first)])
        var line = Array((local ?? "").utf8)
        var count = Int64(line.count)
        try Self.check("MPI_Bcast", MPI_Bcast(&count, 1, localscale_mpi_int64(), root, comm))
        if rank != Int(root) { line = [UInt8](repeating: 0, count: Int(count)) }
        try Self.check("MPI_Bcast", MPI_Bcast(&line, Int32(count), localscale_mpi_byte(), root, comm))
        return String(decoding: line, as: UTF8.self)
    }

    /// Throws `AgreedFailure` on every rank when any rank passes a failure line: the first
    /// failing rank's in `order` (`firstFailure`). Collective.
    public func agree(_ local: String?, order: [Int]? = nil) throws {
        if let line = try firstFailure(local, order: order) { throw AgreedFailure(description: line) }
    }

    /// Runs `body` and agrees on its failure: every rank throws the first failing rank's line in
    /// `order` (the error's description) when any rank's `body` throws. Collective.
    public func agree<T>(order: [Int]? = nil, _ body: () throws -> T) throws -> T {
        let result = Result { try body() }
        switch result {
        case .success: try agree(nil, order: order)
        case let .failure(error): try agree("\(error)", order: order)
        }
        return try result.get()
    }

    /// Folds `step` over the ranks in `order` (default: rank order): the first rank starts from
    /// `initial`, each next rank from the previous rank's result; every rank gets the last rank's.
    /// A sum over the slabs made so, with the ranks in the order of their planes, rounds exactly
    /// as one process's loop over the whole map. Collective; `order` is the same on every rank.
    public func fold(_ initial: Double, order: [Int]? = nil, _ step: (Double) -> Double) throws -> Double {
        try fold([initial], order: order ?? Array(0..<size)) { [step($0[0])] }[0]
    }

    /// `fold` of several running values at once (`step` returns as many as it is given), in
    /// rank order.
    public func fold(_ initial: [Double], _ step: ([Double]) -> [Double]) throws -> [Double] {
        try fold(initial, order: Array(0..<size), step)
    }

    /// `fold` of several running values at once over the ranks in `order`.
    public func fold(_ initial: [Double], order ranks: [Int], _ step: ([Double]) -> [Double]) throws -> [Double] {
        let order = RankOrder(ranks, size: size)
        let position = order.position(of: rank)
        var value = initial
        let count = Int32(initial.count)
        if position > 0 {
            let previous = Int32(order.ranks[position - 1])
            try Self.check("MPI_Recv", MPI_Recv(&value, count, localscale_mpi_double(), previous, 8, comm,
                                                localscale_mpi_status_ignore()))
        }
        value = step(value)
        precondition(value.count == initial.count, "fold: the step changed the number of values")
        if position < size - 1 {
            let next = Int32(order.ranks[position + 1])
            try Self.check("MPI_Send", MPI_Send(&value, count, localscale_mpi_double(), next, 8, comm))
        }
        try Self.check("MPI_Bcast", MPI_Bcast(&value, count, localscale_mpi_double(), Int32(order.ranks[size - 1]),
                                              comm))
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

/// The ranks in an order in which collectives take them (a fold's running sums, which rank's
/// failure is reported): every rank of the communicator once.
public struct RankOrder: Equatable, Sendable {
    /// `ranks[k]`: the k-th rank.
    public let ranks: [Int]

    /// `ranks`, or rank order when nil, for a communicator of `size` ranks.
    public init(_ ranks: [Int]?, size: Int) {
        let ranks = ranks ?? Array(0..<size)
        precondition(ranks.sorted() == Array(0..<size), "not an order of \(size) ranks: \(ranks)")
        self.ranks = ranks
    }

    /// The ranks in the order of their planes: ascending lower bounds (`planes[r]`: rank r's;
    /// ties, e.g. empty ranges, in rank order).
    public init(planes: [Range<Int>]) {
        ranks = planes.indices.sorted { (planes[$0].lowerBound, $0) < (planes[$1].lowerBound, $1) }
    }

    /// Where `rank` comes in the order.
    public func position(of rank: Int) -> Int { ranks.firstIndex(of: rank)! }
}
