#if canImport(Glibc)
import Glibc
#endif
import CMPI
import LocScaleCore

/// One rank's handle on the temporary file of `DistributedMRCWriter`: every rank writes its own
/// planes, then rank 0 the header, then every rank's data is flushed to disk.
protocol SlabFile {
    /// Writes this rank's floats (in the file's order) at their place; the failure line, if any.
    /// Collective for some kinds of file: every rank calls it, failed or not.
    mutating func write(_ data: [Float], communicator: Communicator) throws -> String?
    /// Writes `header` (rank 0 passes it, the others nil) at the start of the file, flushes this
    /// rank's data to disk and closes the file; the failure line, if any. Collective for some
    /// kinds of file: every rank calls it, failed or not.
    mutating func finish(header: [UInt8]?) -> String?
}

/// The file when every rank's planes are one byte range of it (z along the sections, or one
/// rank): each rank writes its range with `pwrite` on its own descriptor and flushes it with
/// `fdatasync` (on a cluster file system each node must flush its own pages). No MPI-IO: its
/// collective open, sync and close cost up to 0.1 s each here, and ompio's collective write copied
/// the data through an aggregator (2–5× slower, benchmarks/RESULTS.md §21).
struct RangeFile: SlabFile {
    /// Bytes per `pwrite` call. One call for a whole 256 MB slab stalled in the copy into the page
    /// cache in 11 of 12 runs here (0.5–0.7 s instead of 0.15), 4–8 MiB calls in about half, 1–2
    /// MiB calls in none of 24 (benchmarks/RESULTS.md §23; the kernel's reason not found).
    static let bytesPerCall = 1 << 21
    /// The output's final path, named in failure lines.
    let path: String
    /// Where this rank's floats start in the file (bytes).
    let offset: Int
    private var descriptor: Int32
    private var openFailure: String?

    /// Creates the empty file `temporary` for the ranks to open (rank 0, before them).
    static func create(_ temporary: String, for path: String) throws {
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw OutputError.cannotWrite(path: path, reason: errnoDescription()) }
        close(fd)
    }

    /// Opens rank 0's file `temporary` for this rank's floats at byte `offset`.
    init(opening temporary: String, for path: String, offset: Int) {
        self.path = path
        self.offset = offset
        descriptor = open(temporary, O_WRONLY)
        openFailure = descriptor >= 0 ? nil : failureLine()
    }

    mutating func write(_ data: [Float], communicator: Communicator) throws -> String? {
        openFailure ?? data.withUnsafeBytes { writeAll($0, at: offset) }
    }

    mutating func finish(header: [UInt8]?) -> String? {
        guard descriptor >= 0 else { return nil }
        defer {
            close(descriptor)
            descriptor = -1
        }
        if let header, let failed = header.withUnsafeBytes({ writeAll($0, at: 0) }) { return failed }
        return fdatasync(descriptor) == 0 ? nil : failureLine()
    }

    /// Writes `bytes` at `offset` of the file; the failure line (a short write's included), if any.
    private func writeAll(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> String? {
        var done = 0
        while done < bytes.count {
            let count = pwrite(descriptor, bytes.baseAddress! + done, min(bytes.count - done, Self.bytesPerCall),
                               off_t(offset + done))
            guard count > 0 else { return failureLine() }
            done += count
        }
        return nil
    }

    private func failureLine() -> String { "\(path): cannot write: \(errnoDescription())" }
}

/// The file opened by every rank with MPI-IO when the ranks' planes interleave in it (z not along
/// the sections): each rank sees its planes as a sub-array view (`FileView`) and writes them with
/// collective writes. Every method is collective.
final class ViewFile: SlabFile {
    /// Most floats in one collective write call (MPI counts are 32-bit).
    static let floatsPerCall = 1 << 28

    let path: String
    private var file: MPI_File?
    /// The view's failure on this rank: it then writes no floats (but still takes part).
    private var viewFailure: String?

    /// Opens `temporary` on every rank and sets each rank's view; throws the agreed failure when
    /// the file cannot be opened on some rank.
    init(opening temporary: String, for path: String, view: FileView, communicator: Communicator) throws {
        self.path = path
        let code = MPI_File_open(communicator.comm, temporary, localscale_mpi_mode_create_write(),
                                 localscale_mpi_info_null(), &file)
        try communicator.agree(failure("MPI_File_open", code))
        viewFailure = view.apply(to: file, failure: failure)
    }

    func write(_ data: [Float], communicator: Communicator) throws -> String? {
        var local = viewFailure
        let count = local == nil ? data.count : 0
        // Every rank makes the same number of collective calls, failed or not.
        let calls = try communicator.allReduceMax([Double((count + Self.floatsPerCall - 1) / Self.floatsPerCall)])[0]
        data.withUnsafeBufferPointer { floats in
            for call in 0..<Int(calls) {
                let start = min(call * Self.floatsPerCall, count)
                let n = min(Self.floatsPerCall, count - start)
                let code = MPI_File_write_at_all(file, MPIOffset(start), floats.baseAddress.map { $0 + start },
                                                 Int32(n), localscale_mpi_float(), localscale_mpi_status_ignore())
                local = local ?? failure("MPI_File_write_at_all", code)
            }
        }
        return local
    }

    func finish(header: [UInt8]?) -> String? {
        // Back to plain bytes from the start of the file for the header (collective).
        var local = failure("MPI_File_set_view", MPI_File_set_view(file, 0, localscale_mpi_byte(),
                                                                   localscale_mpi_byte(), "native",
                                                                   localscale_mpi_info_null()))
        if let header, local == nil {
            local = failure("MPI_File_write_at", MPI_File_write_at(file, 0, header, Int32(header.count),
                                                                  localscale_mpi_byte(),
                                                                  localscale_mpi_status_ignore()))
        }
        // Every rank syncs and closes, whatever failed before (`??` would skip the call).
        let synced = MPI_File_sync(file)
        local = local ?? failure("MPI_File_sync", synced)
        let closed = MPI_File_close(&file)
        return local ?? failure("MPI_File_close", closed)
    }

    private func failure(_ function: String, _ code: Int32) -> String? {
        code == 0 ? nil : "\(path): cannot write: \(function): \(mpiMessage(code))"
    }
}
