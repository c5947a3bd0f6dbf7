#if canImport(Glibc)
import Glibc
#endif
import CHDF5
import LocScaleCore
import LocScaleParallel

/// Writes the `/map` dataset of an HDF5 file from the z-slabs of all ranks with parallel HDF5, so
/// that no rank holds the whole map: the file is created collectively (MPI-IO driver) under rank
/// 0's temporary name for `path`, `/map` (float32, (z, y, x)) is created collectively, and every
/// rank writes its planes as a hyperslab with collective transfers. After the collective close,
/// rank 0 reopens the file alone and gets it back as an `HDF5Writer` for everything else (the
/// attributes of `/map`, `/timing`, `/provenance`), written as the one-process run writes them;
/// rank 0's `outputs.commit()` renames the file into place at the end.
///
/// `/map` holds the values the serial `HDF5Writer.write(_:to:dims:chunk:)` writes for the whole
/// map, in the same chunks of `chunkPlanes` planes.
public enum ParallelHDF5Map {
    /// Most floats in one `H5Dwrite` call of one rank.
    static let floatsPerCall = 1 << 28
    /// Planes per chunk of `/map` (as the one-process writer chunks it).
    public static let chunkPlanes = 16

    /// Room for the file's metadata besides the map's floats (a 400³ `/map` needs about 8 KiB).
    static let metadataBytes = 1 << 16

    /// Fails with one line when the file system cannot hold `bytes` at `temporary`. Parallel HDF5
    /// (1.10) does not survive a write error: after "No space left on device" on one rank, the
    /// ranks' collective calls inside `H5Fclose` no longer match and the job hangs (8 ranks on a
    /// full tmpfs, measured). So rank 0 reserves the whole file first (`posix_fallocate`) and
    /// HDF5 starts only when it fits; the file is emptied again by HDF5's create. Another
    /// program filling the disk in between is not covered.
    static func reserve(_ bytes: Int, at temporary: String, for path: String) throws {
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw OutputError.cannotWrite(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let code = posix_fallocate(fd, 0, off_t(bytes))
        guard code == 0 else {
            let reason = String(cString: strerror(code))
            throw OutputError.cannotWrite(path: path, reason: "\(reason) (reserving \(bytes) bytes)")
        }
    }

    /// Writes the planes `planes` of a map of `shape` (`values` in (z, y, x) order, x fastest) of
    /// every rank as `/map` of the HDF5 file `path`, under its temporary name in rank 0's
    /// `outputs` (other ranks' `outputs` are not used); the ranks' planes must tile 0..<NZ (a rank
    /// may hold none). Collective. This rank wrote `4 * values.count` bytes of data.
    /// - Returns: on rank 0, the file reopened for writing by rank 0 alone (the caller closes it,
    ///   then commits `outputs`); nil on the other ranks.
    /// - Throws: `AgreedFailure` on every rank, with the line of the lowest failing rank (naming
    ///   `path`), when any rank fails; rank 0's temporary file is then removed when `outputs` is
    ///   discarded.
    public static func write(planes: Range<Int>, values: [Float], shape: XYZ<Int>, to path: String,
                             in outputs: OutputFiles, communicator: Communicator) throws -> HDF5Writer? {
        let planeFloats = shape.x * shape.y
        precondition(values.count == planes.count * planeFloats, "values do not fill the planes")
        localscale_h5_quiet()
        // A file left under the same name (this process's, by an earlier write) is removed first.
        let temporary = try communicator.broadcast(try communicator.agree {
            guard communicator.isRoot else { return "" }
            let temporary = try outputs.temporaryPath(for: path)
            unlink(temporary)
            try reserve(4 * shape.x * shape.y * shape.z + metadataBytes, at: temporary, for: path)
            return temporary
        })
        let planesPerCall = max(1, floatsPerCall / max(planeFloats, 1))
        let calls = try communicator.allReduceMax([Double((planes.count + planesPerCall - 1) / planesPerCall)])[0]

        // A file that some ranks can create and others cannot (ranks on file systems that differ)
        // stops inside HDF5's collective open: every rank must see the same folder.
        let file = try CollectiveFile(creating: temporary, for: path, communicator: communicator)
        var local: String?
        do {
            let dataset = try communicator.agree { try file.createMap(shape: shape) }
            // Collective calls are made by every rank, failed or not, the same number of times.
            for call in 0..<Int(calls) {
                let first = min(planes.lowerBound + call * planesPerCall, planes.upperBound)
                let part = first ..< min(first + planesPerCall, planes.upperBound)
                let offset = (first - planes.lowerBound) * planeFloats
                let failed = values.withUnsafeBufferPointer {
                    dataset.write(planes: part, from: $0.baseAddress.map { $0 + offset }, shape: shape)
                }
                local = local ?? failed
            }
            // Every rank closes, whatever failed (a rank skipping a collective close would hang the others).
            let closed = dataset.close()
            local = local ?? closed
        } catch {
            local = "\(error)"
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

    /// Creates `/map` (float32, (z, y, x)), chunked as the one-process writer chunks it.
    func createMap(shape: XYZ<Int>) throws -> CollectiveDataset {
        let extents = [shape.z, shape.y, shape.x].map { hsize_t($0) }
        let space = H5Screate_simple(3, extents, nil)
        defer { H5Sclose(space) }
        let properties = H5Pcreate(localscale_h5p_dataset_create())
        defer { H5Pclose(properties) }
        let chunk = [hsize_t(min(shape.z, ParallelHDF5Map.chunkPlanes)), hsize_t(shape.y), hsize_t(shape.x)]
        H5Pset_chunk(properties, 3, chunk)
        // No fill values: every voxel is written, and nothing is written before the data.
        H5Pset_fill_time(properties, H5D_FILL_TIME_NEVER)
        let dataset = H5Dcreate2(file, "/map", localscale_h5t_native_float(), space, localscale_h5p_default(),
                                 properties, localscale_h5p_default())
        guard dataset >= 0 else { throw HDF5Error(path: path, what: "cannot create dataset /map") }
        return CollectiveDataset(id: dataset, path: path)
    }

    /// Closes the file (every rank, whatever failed before); the failure line, if any.
    func close() -> String? {
        let status = H5Fclose(file)
        file = -1
        return status < 0 ? HDF5Error(path: path, what: "cannot write the file (disk full?)").description : nil
    }

    deinit { if file >= 0 { H5Fclose(file) } }
}

/// `/map` open on every rank.
private final class CollectiveDataset {
    private var id: hid_t
    let path: String

    init(id: hid_t, path: String) {
        self.id = id
        self.path = path
    }

    /// Writes the planes `planes` (possibly none) from `values` with a collective transfer; the
    /// failure line, if any.
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
        H5Pset_dxpl_mpio(transfer, H5FD_MPIO_COLLECTIVE)
        let status = H5Dwrite(id, localscale_h5t_native_float(), memorySpace, fileSpace, transfer, values)
        return status < 0 ? HDF5Error(path: path, what: "cannot write dataset /map").description : nil
    }

    /// Closes `/map`; the failure line, if any.
    func close() -> String? {
        let status = H5Dclose(id)
        id = -1
        return status < 0 ? HDF5Error(path: path, what: "cannot write dataset /map").description : nil
    }

    deinit { if id >= 0 { H5Dclose(id) } }
}
