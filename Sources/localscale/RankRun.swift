import Foundation
import LocScaleParallel
import Logging

/// Runs `body` as an MPI job (one rank without mpirun) and ends MPI. A failure that every rank
/// knows of (`AgreedFailure`) is printed once, by rank 0, and every rank then leaves with exit 1
/// together (a rank that exits early would make mpirun kill rank 0 before its message is out);
/// a failure only one rank knows of ends the whole job (`MPI_Abort`).
func runOnRanks(quiet: Bool, _ body: (Communicator, Logger) throws -> Void) throws {
    let comm = try Communicator.start()
    let logger = makeLogger(quiet: quiet || !comm.isRoot)
    do {
        try body(comm, logger)
    } catch let failure as AgreedFailure {
        if let error = failure.error {
            FileHandle.standardError.write(Data("localscale: error: \(error)\n".utf8))
        }
        try? comm.barrier()
        comm.finish()
        throw ReportedOnRankZero()
    } catch {
        if comm.size == 1 {
            comm.finish()
            throw error
        }
        FileHandle.standardError.write(Data("localscale: error: rank \(comm.rank): \(error)\n".utf8))
        comm.abort(1)
    }
    comm.finish()
}
