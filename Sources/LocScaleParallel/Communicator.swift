import CMPI
import LocScaleCore
import Foundation

/// An MPI call that failed: the function and MPI's own message.
public struct MPIError: Error, CustomStringConvertible {
    public let function: String
    public let message: String
    public var description: String { "\(function): \(message)" }
}

/// The world communicator of this process: rank, size and the typed collectives localscale needs.
/// Every C pointer and macro of MPI stays in this file. A process started without `mpirun` is a
/// valid one-rank world (MPI singleton).
///
/// Call order: `Communicator.start()` once, then any operations, then `finish()` once. Threads
/// other than the one that called `start()` never call MPI (`MPI_THREAD_FUNNELED`).
public struct Communicator: @unchecked Sendable {
    public let rank: Int
    public let size: Int
    /// The C handle, for FFTW-MPI inside this module.
    let comm: MPI_Comm
    /// The C handle, for C libraries that take a communicator (parallel HDF5).
    public var handle: MPI_Comm { comm }

    /// Initialises MPI (funneled threads) with errors returned rather than fatal.
    public static func start() throws -> Communicator {
        var provided: Int32 = 0
        try check("MPI_Init_thread", MPI_Init_thread(nil, nil, localscale_mpi_thread_funneled(), &provided))
        let world = localscale_mpi_comm_world()!
        try check("MPI_Comm_set_errhandler", MPI_Comm_set_errhandler(world, localscale_mpi_errors_return()))
        FFTW.initialiseThreads()
        DistributedRealFFT.initialiseFFTWMPI()
        var rank: Int32 = 0, size: Int32 = 0
        MPI_Comm_rank(world, &rank)
        MPI_Comm_size(world, &size)
        return Communicator(rank: Int(rank), size: Int(size), comm: world)
    }

    /// Ends MPI; the communicator must not be used afterwards.
    public func finish() { MPI_Finalize() }

    /// Ends every rank of the job with `code` (for failures after which ranks cannot agree).
    public func abort(_ code: Int32) -> Never {
        MPI_Abort(comm, code)
        exit(code)
    }

    public var isRoot: Bool { rank == 0 }

    /// Seconds on MPI's wall clock (`MPI_Wtime`).
    public static var time: Double { MPI_Wtime() }

    public func barrier() throws { try Self.check("MPI_Barrier", MPI_Barrier(comm)) }

    /// Rank 0's `value` on every rank (other ranks' arguments are ignored).
    public func broadcast(_ value: [UInt8]) throws -> [UInt8] {
        var count = [Int64(value.count)]
        try Self.check("MPI_Bcast", MPI_Bcast(&count, 1, localscale_mpi_int64(), 0, comm))
        var buffer = isRoot ? value : [UInt8](repeating: 0, count: Int(count[0]))
        if !buffer.isEmpty {
            try Self.check("MPI_Bcast", MPI_Bcast(&buffer, Int32(buffer.count), localscale_mpi_char(), 0, comm))
        }
        return buffer
    }

    /// Rank 0's string on every rank.
    public func broadcast(_ text: String) throws -> String {
        String(decoding: try broadcast(Array(text.utf8)), as: UTF8.self)
    }

    /// Every rank's `values` (the same count on each), concatenated in rank order.
    public func allGather(_ values: [Double]) throws -> [Double] {
        var send = values
        var receive = [Double](repeating: 0, count: values.count * size)
        try Self.check("MPI_Allgather", MPI_Allgather(&send, Int32(values.count), localscale_mpi_double(),
                                                      &receive, Int32(values.count), localscale_mpi_double(), comm))
        return receive
    }

    /// Scatters `counts[r]` floats from `displacements[r]` of rank 0's `source` to rank `r`.
    public func scatter(_ source: [Float], counts: [Int], displacements: [Int]) throws -> [Float] {
        var receive = [Float](repeating: 0, count: counts[rank])
        var sendCounts = counts.map { Int32($0) }, sendDisplacements = displacements.map { Int32($0) }
        try Self.checkCounts(counts, displacements)
        try source.withUnsafeBufferPointer { send in
            try receive.withUnsafeMutableBufferPointer { out in
                try Self.check("MPI_Scatterv", MPI_Scatterv(send.baseAddress, &sendCounts, &sendDisplacements,
                                                            localscale_mpi_float(), out.baseAddress, Int32(out.count),
                                                            localscale_mpi_float(), 0, comm))
            }
        }
        return receive
    }

    /// Gathers every rank's `values` to rank 0 at `displacements[r]` of an array of `total`
    /// floats (other ranks get an empty array).
    public func gather(_ values: [Float], counts: [Int], displacements: [Int], total: Int) throws -> [Float] {
        var receive = [Float](repeating: 0, count: isRoot ? total : 0)
        var receiveCounts = counts.map { Int32($0) }, receiveDisplacements = displacements.map { Int32($0) }
        try Self.checkCounts(counts, displacements)
        try values.withUnsafeBufferPointer { send in
            try receive.withUnsafeMutableBufferPointer { out in
                try Self.check("MPI_Gatherv", MPI_Gatherv(send.baseAddress, Int32(send.count), localscale_mpi_float(),
                                                          out.baseAddress, &receiveCounts, &receiveDisplacements,
                                                          localscale_mpi_float(), 0, comm))
            }
        }
        return receive
    }

    /// The element-wise sum over all ranks of `values` (the same count on each), on every rank.
    public func allReduceSum(_ values: [Double]) throws -> [Double] {
        var send = values
        var receive = [Double](repeating: 0, count: values.count)
        try Self.check("MPI_Allreduce", MPI_Allreduce(&send, &receive, Int32(values.count), localscale_mpi_double(),
                                                      localscale_mpi_sum(), comm))
        return receive
    }

    /// Every rank sends `blocks[r]` to rank `r` and receives one block from every rank
    /// (`MPI_Alltoallv`); the result's element `r` came from rank `r`.
    public func allToAll(_ blocks: [[Float]]) throws -> [[Float]] {
        precondition(blocks.count == size)
        var sendCounts = blocks.map { Int32($0.count) }
        var receiveCounts = [Int32](repeating: 0, count: size)
        try Self.check("MPI_Alltoall", MPI_Alltoall(&sendCounts, 1, localscale_mpi_int(), &receiveCounts, 1,
                                                    localscale_mpi_int(), comm))
        var sendDisplacements = [Int32](repeating: 0, count: size), receiveDisplacements = sendDisplacements
        for r in 1..<size {
            sendDisplacements[r] = sendDisplacements[r - 1] + sendCounts[r - 1]
            receiveDisplacements[r] = receiveDisplacements[r - 1] + receiveCounts[r - 1]
        }
        var send = blocks.flatMap { $0 }
        var receive = [Float](repeating: 0, count: Int(receiveCounts.reduce(0, +)))
        try Self.checkCounts(sendCounts.map(Int.init), sendDisplacements.map(Int.init))
        try Self.check("MPI_Alltoallv", MPI_Alltoallv(&send, &sendCounts, &sendDisplacements, localscale_mpi_float(),
                                                      &receive, &receiveCounts, &receiveDisplacements,
                                                      localscale_mpi_float(), comm))
        return (0..<size).map { r in
            Array(receive[Int(receiveDisplacements[r]) ..< Int(receiveDisplacements[r] + receiveCounts[r])])
        }
    }

    /// Sends and receives float blocks to and from any ranks at once (non-blocking, then waits
    /// for all). `receives[i].buffer` is filled from rank `receives[i].rank`.
    public func exchange(sends: [(rank: Int, values: UnsafeBufferPointer<Float>)],
                         receives: [(rank: Int, buffer: UnsafeMutableBufferPointer<Float>)]) throws {
        var requests = [MPI_Request?](repeating: nil, count: sends.count + receives.count)
        try requests.withUnsafeMutableBufferPointer { request in
            for (i, receive) in receives.enumerated() {
                try Self.check("MPI_Irecv", MPI_Irecv(receive.buffer.baseAddress, Int32(receive.buffer.count),
                                                      localscale_mpi_float(), Int32(receive.rank), 7, comm,
                                                      &request[i]))
            }
            for (i, send) in sends.enumerated() {
                try Self.check("MPI_Isend", MPI_Isend(send.values.baseAddress, Int32(send.values.count),
                                                      localscale_mpi_float(), Int32(send.rank), 7, comm,
                                                      &request[receives.count + i]))
            }
            try Self.check("MPI_Waitall", MPI_Waitall(Int32(request.count), request.baseAddress, nil))
        }
    }

    private static func checkCounts(_ counts: [Int], _ displacements: [Int]) throws {
        if let big = zip(counts, displacements).first(where: { $0.0 + $0.1 > Int(Int32.max) }) {
            throw MPIError(function: "localscale",
                           message: "a block of \(big.0) floats at \(big.1) exceeds MPI's 32-bit counts; use more ranks")
        }
    }

    static func check(_ function: String, _ code: Int32) throws {
        guard code != 0 else { return }
        var text = [CChar](repeating: 0, count: 512)
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        throw MPIError(function: function, message: String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}
