// Reads a map by z-slabs (an equal split of its planes over the ranks) and writes it back, then
// prints one JSON line of I/O times and bytes from rank 0:
//
//     mpirun -np N localscale-slab-io-check IN OUT [--hdf5 | --hdf5-serial] [--file-size-limit-on-rank-0 BYTES]
//
// OUT is by default the file `MRCFile.write` writes for the whole map (labels: "localscale slab-io
// check"), written with the collective MPI-IO writer. `--hdf5`: an HDF5 file whose `/map` every
// rank writes collectively (`ParallelHDF5Map`), then rank 0 adds the map's geometry attributes;
// `--hdf5-serial`: the same file from one process's `HDF5Writer` after gathering the map on rank 0
// (the reference, and today's way). The file-size limit (RLIMIT_FSIZE on rank 0, which writes the
// header and, as the I/O aggregator, the data) makes the writes come out short, to check that the
// writer notices. Errors: one line from rank 0 ("localscale-slab-io-check: error: …"), exit 1 on
// every rank.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LocScaleCore
import LocScaleHDF5
import LocScaleParallel

/// What OUT is and how it is written.
enum OutputKind: String {
    case mrc, hdf5 = "--hdf5", hdf5Serial = "--hdf5-serial"
}

/// What one run measured: the slowest rank's seconds (reading its slab; writing the file, from
/// statistics to the rename) and all ranks' bytes.
struct Measurement: Encodable {
    let ranks: Int
    let readSeconds: Double
    let writeSeconds: Double
    let bytesRead: Int
    let bytesWritten: Int
}

func run(input: String, output: String, kind: OutputKind, fileSizeLimit: Int?,
         communicator: Communicator) throws -> Measurement {
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
    let written = switch kind {
    case .mrc:
        try DistributedMRCWriter.write(planes: planes, values: slab.values, grid: reader.grid,
                                       labels: ["localscale slab-io check"], to: output, in: outputs,
                                       communicator: communicator)
    case .hdf5:
        try writeHDF5(planes: planes, values: slab.values, grid: reader.grid, to: output, in: outputs,
                      communicator: communicator)
    case .hdf5Serial:
        try writeHDF5Serially(planes: planes, values: slab.values, grid: reader.grid, to: output, in: outputs,
                              communicator: communicator)
    }
    try communicator.agree { if communicator.isRoot { try outputs.commit() } }
    let writeSeconds = Communicator.time - start

    let seconds = try communicator.allReduceMax([readSeconds, writeSeconds])
    let bytes = try communicator.allReduceSum([Double(slab.bytesRead), Double(written)])
    return Measurement(ranks: size, readSeconds: seconds[0], writeSeconds: seconds[1],
                       bytesRead: Int(bytes[0]), bytesWritten: Int(bytes[1]))
}

/// `--hdf5`: `/map` by every rank (`ParallelHDF5Map`), then rank 0 adds the attributes.
/// Returns the bytes of map data this rank wrote.
func writeHDF5(planes: Range<Int>, values: [Float], grid: Grid, to path: String, in outputs: OutputFiles,
               communicator: Communicator) throws -> Int {
    let file = try ParallelHDF5Map.write(planes: planes, values: values, shape: grid.shape, to: path, in: outputs,
                                         communicator: communicator)
    try communicator.agree {
        guard let file else { return }
        try setMapAttributes(grid, in: file)
        try file.close()
    }
    return 4 * values.count
}

/// `--hdf5-serial`: the map gathered on rank 0, written by one process's `HDF5Writer`.
func writeHDF5Serially(planes: Range<Int>, values: [Float], grid: Grid, to path: String, in outputs: OutputFiles,
                       communicator: Communicator) throws -> Int {
    let planeFloats = grid.shape.x * grid.shape.y
    let ends = try communicator.allGather([Double(planes.upperBound)]).map { Int($0) * planeFloats }
    let starts = [0] + ends.dropLast()
    let whole = try communicator.gather(values, counts: zip(starts, ends).map { $1 - $0 }, displacements: starts,
                                        total: grid.voxelCount)
    try communicator.agree {
        guard communicator.isRoot else { return }
        let s = grid.shape
        let file = try HDF5Writer(temporary: outputs.temporaryPath(for: path), for: path)
        try file.write(whole, to: "/map", dims: [s.z, s.y, s.x],
                       chunk: [min(s.z, ParallelHDF5Map.chunkPlanes), s.y, s.x])
        try setMapAttributes(grid, in: file)
        try file.close()
    }
    return 4 * whole.count
}

/// The geometry attributes of `/map`, as `scale --hdf5` writes them.
func setMapAttributes(_ grid: Grid, in file: HDF5Writer) throws {
    try file.setAttribute("voxel_size", grid.voxelSize.array, on: "/map")
    try file.setAttribute("origin", grid.origin.array, on: "/map")
    try file.setAttribute("nstart", grid.start.array.map(Double.init), on: "/map")
    try file.setAttribute("layout", "(z, y, x), x fastest; voxel_size, origin (Å) and nstart in x, y, z order",
                          on: "/map")
}

var arguments = Array(CommandLine.arguments.dropFirst())
var fileSizeLimit: Int?
var kind = OutputKind.mrc
if let index = arguments.firstIndex(of: "--file-size-limit-on-rank-0"), index + 1 < arguments.count {
    fileSizeLimit = Int(arguments[index + 1])
    arguments.removeSubrange(index ... index + 1)
}
if arguments.count == 3, let chosen = OutputKind(rawValue: arguments[2]), chosen != .mrc {
    kind = chosen
    arguments.removeLast()
}
guard arguments.count == 2 else {
    let usage = "usage: localscale-slab-io-check IN OUT [--hdf5 | --hdf5-serial] [--file-size-limit-on-rank-0 BYTES]\n"
    FileHandle.standardError.write(Data(usage.utf8))
    exit(2)
}
HDF5Library.start()
let communicator = try Communicator.start()
do {
    let measured = try run(input: arguments[0], output: arguments[1], kind: kind, fileSizeLimit: fileSizeLimit,
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
