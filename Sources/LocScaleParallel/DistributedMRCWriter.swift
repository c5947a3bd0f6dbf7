#if canImport(Glibc)
import Glibc
#endif
import CMPI
import LocScaleCore

/// Writes one MRC map from the z-slabs of all ranks, so that no rank holds the whole map: rank 0
/// registers the temporary file with its `OutputFiles`, every rank writes its planes (`RangeFile`:
/// `pwrite` of their byte range when z is along the sections or on one rank; else `ViewFile`:
/// collective MPI-IO writes of a sub-array view), rank 0 then writes the header, every rank
/// flushes its data, and rank 0's `outputs.commit()` renames the file into place afterwards. The
/// file is the one `MRCFile.write` writes for the whole map: little-endian mode 2 in the grid's
/// axis order, with the statistics of all slabs.
public enum DistributedMRCWriter {
    /// Writes the planes `planes` of a map on `grid` (`values` in (z, y, x) order, x fastest) of
    /// every rank to `path`'s temporary name in rank 0's `outputs` (other ranks' `outputs` are
    /// not used); the ranks' planes must tile 0..<NZ. Collective; the caller commits `outputs`
    /// on rank 0.
    /// - Returns: the bytes this rank wrote.
    /// - Throws: `AgreedFailure` on every rank, with the line of the lowest failing rank (naming
    ///   `path`), when any rank fails; rank 0's temporary file is then removed when `outputs`
    ///   is discarded.
    public static func write(planes: Range<Int>, values: [Float], grid: Grid, labels: [String], to path: String,
                             in outputs: OutputFiles, communicator: Communicator) throws -> Int {
        precondition(values.count == planes.count * grid.shape.x * grid.shape.y, "values do not fill the planes")
        let view = FileView(grid: grid, planes: planes)
        // The same on every rank: whether one rank's planes are a byte range depends on the others'
        // only through the axis order (a rank with every plane or none has one, the others not).
        let byRanges = grid.axisOrder[2] == 3 || communicator.size == 1
        let expected = MRCHeader.byteCount + 4 * grid.voxelCount
        // A file left under the same name (this process's, by an earlier write) is replaced, so
        // that nothing of it remains after the new data.
        let temporary = try communicator.broadcast(try communicator.agree {
            guard communicator.isRoot else { return "" }
            let temporary = try outputs.temporaryPath(for: path)
            unlink(temporary)
            if byRanges { try RangeFile.create(temporary, for: path) }
            return temporary
        })
        let data = view.fileOrder(values, grid: grid, planes: planes)
        var file: any SlabFile = byRanges
            ? RangeFile(opening: temporary, for: path,
                        offset: MRCHeader.byteCount + 4 * planes.lowerBound * grid.shape.x * grid.shape.y)
            : try ViewFile(opening: temporary, for: path, view: view, communicator: communicator)
        // The statistics first: afterwards no collective call comes between a rank's write and
        // its flush, so that a rank done writing flushes while the others still write (statistics
        // between them cost 0.015–0.03 s at 2–4 ranks, benchmarks/RESULTS.md §23).
        let statistics = try globalStatistics(values, planes: planes, grid: grid, communicator: communicator)
        var local = try file.write(data, communicator: communicator)
        let header = communicator.isRoot && local == nil
            ? MRCHeader(writing: grid, statistics: statistics, labels: labels).bytes : nil
        let finished = file.finish(header: header)
        local = local ?? finished
        // Open MPI's ompio takes a short write (RLIMIT_FSIZE, say) for a whole one and returns
        // success: the file's size tells (after the collective sync, every rank's data is in).
        // `pwrite` reports a short write itself, and the other ranks may still be writing.
        if !byRanges && communicator.isRoot && local == nil {
            local = checkSize(of: temporary, expected: expected, path: path)
        }
        try communicator.agree(local)
        return 4 * data.count + (communicator.isRoot ? MRCHeader.byteCount : 0)
    }

    /// The failure line when the file at `temporary` does not hold `expected` bytes.
    static func checkSize(of temporary: String, expected: Int, path: String) -> String? {
        var info = stat()
        guard stat(temporary, &info) == 0 else { return "\(path): cannot write: \(errnoDescription())" }
        guard Int(info.st_size) == expected else {
            return "\(path): cannot write: the file holds \(info.st_size) bytes after writing, expected \(expected)"
        }
        return nil
    }

    /// DMIN, DMAX, DMEAN and RMS of the map whose slabs are every rank's `values` (planes
    /// `planes` of `grid`), as `MRCFile.write` computes them for the whole map whatever the rank
    /// count: every rank sums its own planes (`PlaneSums`), and each plane's sum reaches every rank
    /// exactly (the other ranks add zeros), to be added in plane order.
    static func globalStatistics(_ values: [Float], planes: Range<Int>, grid: Grid,
                                 communicator: Communicator) throws -> MapStatistics {
        let planeSize = grid.shape.x * grid.shape.y
        /// `local` (one entry per plane of this rank) among zeros for all planes, summed over the ranks.
        func allPlanes(_ local: [Double]) throws -> [Double] {
            var placed = [Double](repeating: 0, count: grid.shape.z)
            placed.replaceSubrange(planes, with: local)
            return try communicator.allReduceSum(placed)
        }
        let local = values.withUnsafeBufferPointer { PlaneSums.sums($0, planeSize: planeSize) }
        let sums = try allPlanes(local.sums)
        let extremes = try communicator.allReduceMin([Double(local.minimum), -Double(local.maximum)])
        let mean = sums.reduce(0, +) / Double(grid.voxelCount)
        let squares = try allPlanes(values.withUnsafeBufferPointer {
            PlaneSums.squaredDeviations($0, planeSize: planeSize, mean: mean)
        })
        return MapStatistics(minimum: Float(extremes[0]), maximum: Float(-extremes[1]), planeSums: sums,
                             squaredDeviations: squares, voxelCount: grid.voxelCount)
    }
}

typealias MPIOffset = MPI_Offset

/// Where one rank's planes lie in the file: the sub-array of the file's (sections, rows,
/// columns) array that holds them, after the header.
struct FileView {
    /// The file's sections, rows, columns and the ranges of them holding the planes.
    let sizes: [Int32]
    let starts: [Int32]
    let counts: [Int32]

    init(grid: Grid, planes: Range<Int>) {
        let order = grid.axisOrder
        // File axes slowest first: sections, rows, columns.
        let axes = [order[2], order[1], order[0]]
        sizes = axes.map { Int32(grid.shape[$0 - 1]) }
        starts = axes.map { $0 == 3 ? Int32(planes.lowerBound) : 0 }
        counts = axes.map { $0 == 3 ? Int32(planes.count) : Int32(grid.shape[$0 - 1]) }
    }

    /// `values` (the planes in (z, y, x) order) in the file's order of the sub-array: the same
    /// array when x is fastest and z slowest.
    func fileOrder(_ values: [Float], grid: Grid, planes: Range<Int>) -> [Float] {
        guard grid.axisOrder != [1, 2, 3] else { return values }
        let (columnStride, rowStride, sectionStride) = grid.fileOrderStrides
        let slabStart = planes.lowerBound * grid.shape.x * grid.shape.y
        var out = [Float](repeating: 0, count: values.count)
        var k = 0
        for s in starts[0] ..< starts[0] + counts[0] {
            for r in starts[1] ..< starts[1] + counts[1] {
                var from = Int(s) * sectionStride + Int(r) * rowStride + Int(starts[2]) * columnStride - slabStart
                for _ in 0..<counts[2] {
                    out[k] = values[from]
                    k += 1
                    from += columnStride
                }
            }
        }
        return out
    }

    /// Sets the view of `file` to this sub-array of floats after the header (a rank without
    /// planes sees plain floats and writes none). Collective: every rank calls
    /// `MPI_File_set_view` once, also when its sub-array type cannot be made (it then sees plain
    /// floats and must write none). Returns the failure line, if any.
    func apply(to file: MPI_File?, failure: (String, Int32) -> String?) -> String? {
        var (type, made) = (localscale_mpi_float(), nil as String?)
        var subarray: MPI_Datatype?
        if counts.allSatisfy({ $0 > 0 }) {
            var (sizes, counts, starts) = (sizes, counts, starts)
            made = failure("MPI_Type_create_subarray",
                           MPI_Type_create_subarray(3, &sizes, &counts, &starts, localscale_mpi_order_c(),
                                                    localscale_mpi_float(), &subarray))
            made = made ?? failure("MPI_Type_commit", MPI_Type_commit(&subarray))
            if made == nil, let subarray { type = subarray }
        }
        defer { if subarray != nil { MPI_Type_free(&subarray) } }
        let viewed = failure("MPI_File_set_view", MPI_File_set_view(file, MPIOffset(MRCHeader.byteCount),
                                                                    localscale_mpi_float(), type, "native",
                                                                    localscale_mpi_info_null()))
        return made ?? viewed
    }
}

/// MPI's message for an error code.
func mpiMessage(_ code: Int32) -> String {
    var text = [CChar](repeating: 0, count: 512)
    var length: Int32 = 0
    MPI_Error_string(code, &text, &length)
    return String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
