// Reads a map by z-slabs (an equal split of its planes over the ranks) and writes it back with
// the collective MPI-IO writer, then prints one JSON line of I/O times and bytes from rank 0:
//
//     mpirun -np N localscale-slab-io-check IN OUT [--file-size-limit-on-rank-0 BYTES]
//
// OUT is the file `MRCFile.write` writes for the whole map (labels: "localscale slab-io check").
// The file-size limit (RLIMIT_FSIZE on rank 0, which writes the header and, as the I/O
// aggregator, the data) makes the writes come out short, to check that the writer notices.
// Errors: one line from rank 0 ("localscale-slab-io-check: error: …"), exit 1 on every rank.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LocScaleCore
import LocScaleParallel

/// What one run measured: the slowest rank's seconds (reading its slab; writing the file, from
/// statistics to the rename) and all ranks' bytes.
struct Measurement: Encodable {
    let ranks: Int
    let readSeconds: Double
    let writeSeconds: Double
    let bytesRead: Int
    let bytesWritten: Int
}

func run(input: String, output: String, fileSizeLimit: Int?, communicator: Communicator) throws -> Measurement {
    let reader = try communicator.agree { try MRCSlabReader(path: input) }
    let (rank, size, nz) = (communicator.rank, communicator.size, reader.grid.shape.z)
    let planes = rank * nz / size ..< (rank + 1) * nz / size

    try communicator.barrier()
    var start = Communicator.time
    var readSeconds = 0.0
    let slab = try communicator.agree {
        let slab = try reader.read(planes: planes)
        readSeconds = Communicator.time - start
        try slab.checkFinite()
        return slab
    }

    if let fileSizeLimit, communicator.isRoot {
        signal(SIGXFSZ, SIG_IGN)
        var limit = rlimit(rlim_cur: rlim_t(fileSizeLimit), rlim_max: rlim_t(fileSizeLimit))
        setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &limit)
    }
    try communicator.barrier()
    start = Communicator.time
    let outputs = OutputFiles()
    let written = try DistributedMRCWriter.write(planes: planes, values: slab.values, grid: reader.grid,
                                                 labels: ["localscale slab-io check"], to: output,
                                                 in: outputs, communicator: communicator)
    try communicator.agree { if communicator.isRoot { try outputs.commit() } }
    let writeSeconds = Communicator.time - start

    let seconds = try communicator.allReduceMax([readSeconds, writeSeconds])
    let bytes = try communicator.allReduceSum([Double(slab.bytesRead), Double(written)])
    return Measurement(ranks: size, readSeconds: seconds[0], writeSeconds: seconds[1],
                       bytesRead: Int(bytes[0]), bytesWritten: Int(bytes[1]))
}

let arguments = Array(CommandLine.arguments.dropFirst())
var fileSizeLimit: Int?
if arguments.count == 4 && arguments[2] == "--file-size-limit-on-rank-0" { fileSizeLimit = Int(arguments[3]) }
guard arguments.count == 2 || fileSizeLimit != nil else {
    let usage = "usage: localscale-slab-io-check IN OUT [--file-size-limit-on-rank-0 BYTES]\n"
    FileHandle.standardError.write(Data(usage.utf8))
    exit(2)
}
let communicator = try Communicator.start()
do {
    let measured = try run(input: arguments[0], output: arguments[1], fileSizeLimit: fileSizeLimit,
                           communicator: communicator)
    if communicator.isRoot {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        print(String(decoding: try encoder.encode(measured), as: UTF8.self))
    }
    communicator.finish()
} catch {
    if communicator.isRoot { FileHandle.standardError.write(Data("localscale-slab-io-check: error: \(error)\n".utf8)) }
    communicator.finish()
    exit(1)
}
