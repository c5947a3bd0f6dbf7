#if canImport(Glibc)
import Glibc
#endif
import CHDF5
import LocScaleCore
import LocScaleParallel

/// Writes float32 (z, y, x) datasets of an HDF5 file — `/map`, and beside it `/bfactor` or
/// `/mask` — from the z-slabs of all ranks with parallel HDF5, so that no rank holds a whole map:
/// the file is created collectively (MPI-IO driver) under rank 0's temporary name for `path`,
/// each dataset is created collectively, and every rank writes its planes of it as a hyperslab
/// with independent transfers. After the collective close, rank 0 reopens the file alone and gets
/// it back as an `HDF5Writer` for everything else (the datasets' attributes, `/timing`,
/// `/provenance`), written as the one-process run writes them; rank 0's `outputs.commit()`
/// renames the file into place at the end.
///
/// Each dataset holds the values the serial `HDF5Writer.write(_:to:dims:chunk:)` writes for the
/// whole map, in the same chunks of `chunkPlanes` planes.
public enum ParallelHDF5Map {
    /// Most floats in one `H5Dwrite` call of one rank.
    static let floatsPerCall = 1 << 28
    /// Planes per chunk of a dataset (as the one-process writer chunks `/map`).
    public static let chunkPlanes = 16

    /// Room for the file's metadata besides the datasets' floats (a 400³ `/map` needs about 8 KiB).
    static let metadataBytes = 1 << 16

    /// One rank's planes of one dataset: `values` in (z, y, x) order, x fastest, for the planes
    /// `planes` of the box (the ranks' planes of a dataset must tile 0..<NZ; a rank may hold none).
    public struct Slab {
        /// The dataset's path in the file ("/map").
        public let name: String
        public let planes: Range<Int>
        public let values: [Float]

        public init(name: String, planes: Range<Int>, values: [Float]) {
            self.name = name
            self.planes = planes
            self.values = values
        }
    }

    /// Fails with one line when the file system cannot hold `bytes` at `temporary`. Parallel HDF5
    /// (1.10) does not survive a write error: after "No space left on device" on one rank, the
    /// ranks' collective calls inside `H5Fclose` no longer match and the job hangs (8 ranks on a
    /// full tmpfs, measured). So rank 0 reserves the whole file first (`posix_fallocate`) and
    /// HDF5 starts only when it fits; the file is emptied again by HDF5's create. Another
    /// program filling the disk in between is not covered.
    static func reserve(_ bytes: Int, at temporary: String, for path: String) throws {
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw OutputError.cannotWrite(path: path, reason: errnoDescription()) }
        defer { close(fd) }
        let code = posix_fallocate(fd, 0, off_t(bytes))
        guard code == 0 else {
            let reason = errnoDescription(code)
            throw OutputError.cannotWrite(path: path, reason: "\(reason) (reserving \(bytes) bytes)")
        }
    }

    /// `/map` alone: `write([Slab(name: "/map", planes: planes, values: values)], …)`.
    public static func write(planes: Range<Int>, values: [Float], shape: XYZ<Int>, to path: String,
                             in outputs: OutputFiles, communicator: Communicator) throws -> HDF5Writer? {
        try write([Slab(name: "/map", planes: planes, values: values)], shape: shape, to: path, in: outputs,
                  communicator: communicator)
    }

    /// Writes this rank's `slabs` of maps of `shape`, one dataset each (every rank passes the same
    /// names in the same order), into the HDF5 file `path`, under its temporary name in rank 0's
    /// `outputs` (other ranks' `outputs` are not used). Collective. This rank wrote
    /// `4 * values.count` bytes of data per slab.
    /// - Returns: on rank 0, the file reopened for writing by rank 0 alone (the caller closes it,
    ///   then commits `outputs`); nil on the other ranks.
    /// - Throws: `AgreedFailure` on every rank, with the line of the lowest failing rank (naming
    ///   `path`), when any rank fails; rank 0's temporary file is then removed when `outputs` is
    ///   discarded.
    public static func write(_ slabs: [Slab], shape: XYZ<Int>, to path: String, in outputs: OutputFiles,
                             communicator: Communicator) throws -> HDF5Writer? {
        let planeFloats = shape.x * shape.y
        for slab in slabs {
            precondition(slab.values.count == slab.planes.count * planeFloats, "values do not fill the planes")
        }
        localscale_h5_quiet()
        // A file left under the same name (this process's, by an earlier write) is removed first.
        let temporary = try communicator.broadcast(try communicator.agree {
            guard communicator.isRoot else { return "" }
            let temporary = try outputs.temporaryPath(for: path)
            unlink(temporary)
            try reserve(4 * shape.x * shape.y * shape.z * slabs.count + metadataBytes, at: temporary, for: path)
            return temporary
        })
        let planesPerCall = max(1, floatsPerCall / max(planeFloats, 1))
        let calls = try communicator.allReduceMax(slabs.map {
            Double(($0.planes.count + planesPerCall - 1) / planesPerCall)
        })

        // A file that some ranks can create and others cannot (ranks on file systems that differ)
        // stops inside HDF5's collective open: every rank must see the same folder.
        let file = try CollectiveFile(creating: temporary, for: path, communicator: communicator)
        var local: String?
        for (slab, calls) in zip(slabs, calls) {
            do {
                let dataset = try communicator.agree { try file.createDataset(slab.name, shape: shape) }
                // Every rank makes the same number of write calls, failed or not (with empty
                // selections if need be): required of collective transfers, harmless with
                // independent ones, so that the transfer mode stays one line.
                for call in 0..<Int(calls) {
                    let planes = slab.planes
                    let first = min(planes.lowerBound + call * planesPerCall, planes.upperBound)
                    let part = first ..< min(first + planesPerCall, planes.upperBound)
                    let offset = (first - planes.lowerBound) * planeFloats
                    let failed = slab.values.withUnsafeBufferPointer {
                        dataset.write(planes: part, from: $0.baseAddress.map { $0 + offset }, shape: shape)
                    }
                    local = local ?? failed
                }
                // Every rank closes, whatever failed (a rank skipping a collective close would hang the others).
                let closed = dataset.close()
                local = local ?? closed
            } catch {
                local = "\(error)"
                break
            }
        }
        let closed = file.close()
        local = local ?? closed
        try communicator.agree(local)
        return try communicator.agree {
            // Reopening checks the file: a short write (it ends before HDF5's end of data) fails here.
            try communicator.isRoot ? HDF5Writer(reopening: temporary, for: path) : nil
        }
    }
}

/// An HDF5 file opened by every rank with the MPI-IO driver. Every method is collective.
private final class CollectiveFile {
    let path: String
    private var file: hid_t

    init(creating temporary: String, for path: String, communicator: Communicator) throws {
        self.path = path
        let access = H5Pcreate(localscale_h5p_file_access())
        defer { H5Pclose(access) }
        var failed = localscale_h5p_set_fapl_mpio(access, communicator.handle) < 0
        file = failed ? -1 : H5Fcreate(temporary, localscale_h5f_acc_trunc(), localscale_h5p_default(), access)
        failed = file < 0
        try communicator.agree(failed ? HDF5Error(path: path, what: "cannot create \(temporary)").description : nil)
    }

    /// Creates the dataset `name` (float32, (z, y, x)), chunked as the one-process writer chunks `/map`.
    func createDataset(_ name: String, shape: XYZ<Int>) throws -> CollectiveDataset {
        let extents = [shape.z, shape.y, shape.x].map { hsize_t($0) }
        let space = H5Screate_simple(3, extents, nil)
        defer { H5Sclose(space) }
        let properties = H5Pcreate(localscale_h5p_dataset_create())
        defer { H5Pclose(properties) }
        let chunk = [hsize_t(min(shape.z, ParallelHDF5Map.chunkPlanes)), hsize_t(shape.y), hsize_t(shape.x)]
        H5Pset_chunk(properties, 3, chunk)
        // No fill values: every voxel is written, and nothing is written before the data.
        H5Pset_fill_time(properties, H5D_FILL_TIME_NEVER)
        let dataset = H5Dcreate2(file, name, localscale_h5t_native_float(), space, localscale_h5p_default(),
                                 properties, localscale_h5p_default())
        guard dataset >= 0 else { throw HDF5Error(path: path, what: "cannot create dataset \(name)") }
        return CollectiveDataset(id: dataset, name: name, path: path)
    }

    /// Closes the file (every rank, whatever failed before); the failure line, if any.
    func close() -> String? {
        let status = H5Fclose(file)
        file = -1
        return status < 0 ? HDF5Error(path: path, what: "cannot write the file (disk full?)").description : nil
    }

    deinit { if file >= 0 { H5Fclose(file) } }
}

/// A dataset open on every rank.
private final class CollectiveDataset {
    private var id: hid_t
    let name: String
    let path: String

    init(id: hid_t, name: String, path: String) {
        self.id = id
        self.name = name
        self.path = path
    }

    /// Writes the planes `planes` (possibly none) from `values` with an independent transfer
    /// (each rank's own `pwritev`s: a collective transfer copied the data through ompio's
    /// aggregator, 0.55 s against 0.16 s median for a 400³ map on one rank, benchmarks/RESULTS.md
    /// §23); the failure line, if any.
    func write(planes: Range<Int>, from values: UnsafePointer<Float>?, shape: XYZ<Int>) -> String? {
        let fileSpace = H5Dget_space(id)
        defer { H5Sclose(fileSpace) }
        let count = [hsize_t(planes.count), hsize_t(shape.y), hsize_t(shape.x)]
        let memorySpace = H5Screate_simple(3, count.map { max($0, 1) }, nil)
        defer { H5Sclose(memorySpace) }
        if planes.isEmpty {
            H5Sselect_none(fileSpace)
            H5Sselect_none(memorySpace)
        } else {
            let start = [hsize_t(planes.lowerBound), 0, 0]
            H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nil, count, nil)
        }
        let transfer = H5Pcreate(localscale_h5p_dataset_xfer())
        defer { H5Pclose(transfer) }
        H5Pset_dxpl_mpio(transfer, H5FD_MPIO_INDEPENDENT)
        let status = H5Dwrite(id, localscale_h5t_native_float(), memorySpace, fileSpace, transfer, values)
        return status < 0 ? HDF5Error(path: path, what: "cannot write dataset \(name)").description : nil
    }

    /// Closes the dataset; the failure line, if any.
    func close() -> String? {
        let status = H5Dclose(id)
        id = -1
        return status < 0 ? HDF5Error(path: path, what: "cannot write dataset \(name)").description : nil
    }

    deinit { if id >= 0 { H5Dclose(id) } }
}
