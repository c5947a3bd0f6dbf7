import Foundation
import LocScaleCore
import LocScaleHDF5
import LocScaleParallel
import Logging

/// Thrown once a failure has been reported: exit 1 without another message.
public struct ReportedOnRankZero: Error {
    public init() {}
}

extension Communicator {
    /// Rank 0 tries, every rank agrees: runs `body` on rank 0 only; when it fails, every rank
    /// throws `AgreedFailure` with rank 0's line (collective).
    /// - Returns: `body`'s value on rank 0, nil on the other ranks.
    func rootTries<T>(_ body: () throws -> T) throws -> T? {
        try agree { isRoot ? try body() : nil }
    }
}

/// Runs `body` as an MPI job (one rank without mpirun) and ends MPI. A failure that every rank
/// knows of (`AgreedFailure`) is printed once, by rank 0, and every rank then leaves with exit 1
/// together (a rank that exits early would make mpirun kill rank 0 before its message is out);
/// a failure only one rank knows of ends the whole job (`MPI_Abort`).
public func runOnRanks(quiet: Bool, _ body: (Communicator, Logger) throws -> Void) throws {
    HDF5Library.start()    // before MPI: see there
    let comm = try Communicator.start()
    let logger = makeLogger(quiet: quiet || !comm.isRoot)
    do {
        try body(comm, logger)
    } catch let failure as AgreedFailure {
        if comm.isRoot {
            FileHandle.standardError.write(Data("localscale: error: \(failure)\n".utf8))
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

/// The cores of this node divided by the MPI ranks on it (from Open MPI's, MPICH's or slurm's
/// environment; 1 rank without them).
public func coresPerLocalRank() -> Int {
    let environment = ProcessInfo.processInfo.environment
    let local = ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"]
        .compactMap { environment[$0].flatMap { Int($0) } }.first ?? 1
    return max(1, ProcessInfo.processInfo.activeProcessorCount / max(1, local))
}

/// A logger that writes "localscale: LEVEL: message" lines to stderr.
public func makeLogger(quiet: Bool) -> Logger {
    var logger = Logger(label: "localscale") { _ in PlainStderrHandler() }
    logger.logLevel = quiet ? .warning : .info
    return logger
}

/// swift-log handler for a command-line tool: one plain line per message on stderr.
struct PlainStderrHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let prefix = event.level >= .warning ? "localscale: \(event.level): " : "localscale: "
        FileHandle.standardError.write(Data((prefix + event.message.description + "\n").utf8))
    }
}

/// Reads the map at `path` to compute with (its geometry checked), logging the warnings of the
/// reader (e.g. a missing map word) on `logger`.
func readMap(_ path: String, logger: Logger) throws -> NamedVolume {
    let map = try MRCFile.read(path: path)
    map.header.warnings.forEach { logger.warning("\($0)") }
    return NamedVolume(path: path, volume: map.volume)
}
