import CHDF5
import LocScaleCore
import LocScaleHDF5
import LocScaleParallel

extension ScaleRun {
    /// `--hdf5`'s `/map` and its geometry attributes, written by rank 0 one slab at a time: rank 0
    /// writes its own planes, then receives each other rank's in turn and writes them as a
    /// hyperslab, so no rank holds more than two slabs (collective). The file is created under
    /// its temporary name in `outputs` and stays open on rank 0 for `/timing` and `/provenance`.
    /// (One function, so that a parallel-HDF5 writer can replace it.)
    /// - Returns: the open file on rank 0 (nil elsewhere), and the bytes of `/map` this rank wrote.
    func writeHDF5Map(_ values: [Float], planes: RankPlanes, grid: Grid, setup: RunSetup, to path: String,
                      in outputs: OutputFiles) throws -> (file: HDF5Writer?, bytes: Int) {
        let s = grid.shape, plane = s.x * s.y
        guard comm.isRoot else {
            try values.withUnsafeBufferPointer { try comm.exchange(sends: [(rank: 0, values: $0)], receives: []) }
            try comm.agree(nil)
            return (nil, 0)
        }
        // Rank 0 receives every slab even after a failure, so that no rank waits for it forever.
        var failure: Error?
        var file: HDF5Writer?, dataset: HDF5SlabDataset?
        do {
            let temporary = try outputs.temporaryPath(for: path)
            file = try HDF5Writer(temporary: temporary, for: path)
            dataset = try HDF5SlabDataset(file: temporary, path: path, name: "/map", dims: [s.z, s.y, s.x],
                                          chunk: [min(s.z, 16), s.y, s.x])
            try values.withUnsafeBufferPointer { try dataset?.write(planes: planes.tiling, values: $0) }
        } catch { failure = error }
        var buffer = [Float](repeating: 0, count: (planes.tilings.dropFirst().map(\.count).max() ?? 0) * plane)
        for (rank, tiling) in planes.tilings.enumerated().dropFirst() {
            try buffer.withUnsafeMutableBufferPointer { all in
                let slab = UnsafeMutableBufferPointer(rebasing: all[..<(tiling.count * plane)])
                try comm.exchange(sends: [], receives: [(rank: rank, buffer: slab)])
                if failure == nil {
                    do {
                        try dataset?.write(planes: tiling, values: UnsafeBufferPointer(slab))
                    } catch { failure = error }
                }
            }
        }
        if failure == nil {
            do {
                try dataset?.close()
                if let file { try setMapAttributes(of: file, grid: grid, setup: setup) }
            } catch { failure = error }
        }
        try comm.agree(failure.map { "\($0)" })
        return (file, 4 * grid.voxelCount)
    }

    /// `/map`'s attributes: geometry, window, rule, method and layout.
    private func setMapAttributes(of file: HDF5Writer, grid: Grid, setup: RunSetup) throws {
        try file.setAttribute("voxel_size", grid.voxelSize.array, on: "/map")
        try file.setAttribute("origin", grid.origin.array, on: "/map")
        try file.setAttribute("nstart", grid.start.array.map(Double.init), on: "/map")
        try file.setAttribute("window", [Double(setup.window)], on: "/map")
        let (rule, padFactor) = switch setup.rule {
        case .exact(let padFactor): ("exact", padFactor)
        case .locscale2: ("locscale2", Double.nan)
        }
        try file.setAttribute("pad_factor", [padFactor], on: "/map")
        let resolution = job.model.atoms.map { $0.options.resolution ?? 2 * grid.voxelSize.array.max()! }
        try file.setAttribute("resolution", [resolution ?? .nan], on: "/map")
        try file.setAttribute("rule", rule, on: "/map")
        try file.setAttribute("method", setup.method.method.rawValue, on: "/map")
        try file.setAttribute("layout", "(z, y, x), x fastest; voxel_size, origin (Å) and nstart in x, y, z order",
                              on: "/map")
    }
}

/// A float32 dataset of shape (z, y, x) written by z-slabs (hyperslabs), through a second HDF5
/// identifier of a file an `HDF5Writer` has open (HDF5 shares one open file between both).
final class HDF5SlabDataset {
    private let path: String, name: String
    private var file: hid_t, dataset: hid_t = -1
    private let dims: [hsize_t]

    /// Creates dataset `name` of `dims` (slowest first), chunked by `chunk`, in the open file
    /// `temporary` (errors name `path`).
    init(file temporary: String, path: String, name: String, dims: [Int], chunk: [Int]) throws {
        self.path = path
        self.name = name
        self.dims = dims.map { hsize_t($0) }
        file = H5Fopen(temporary, 1 /* H5F_ACC_RDWR, a macro Swift cannot import */, localscale_h5p_default())
        guard file >= 0 else { throw Self.failure(path, "cannot open \(temporary) again to write \(name)") }
        let space = H5Screate_simple(3, self.dims, nil)
        defer { H5Sclose(space) }
        let properties = H5Pcreate(localscale_h5p_dataset_create())
        defer { H5Pclose(properties) }
        H5Pset_chunk(properties, 3, chunk.map { hsize_t(max(1, $0)) })
        dataset = H5Dcreate2(file, name, localscale_h5t_native_float(), space, localscale_h5p_default(), properties,
                             localscale_h5p_default())
        guard dataset >= 0 else { throw Self.failure(path, "cannot create dataset \(name)") }
    }

    /// "PATH: HDF5: what", as `HDF5Writer` says it.
    private static func failure(_ path: String, _ what: String) -> ScaleJobError {
        ScaleJobError(description: "\(path): HDF5: \(what)")
    }

    deinit {
        if dataset >= 0 { H5Dclose(dataset) }
        if file >= 0 { H5Fclose(file) }
    }

    /// Writes z-planes `planes` ((z, y, x) values, x fastest).
    func write(planes: Range<Int>, values: UnsafeBufferPointer<Float>) throws {
        guard !planes.isEmpty else { return }
        let start: [hsize_t] = [hsize_t(planes.lowerBound), 0, 0]
        let count: [hsize_t] = [hsize_t(planes.count), dims[1], dims[2]]
        let fileSpace = H5Dget_space(dataset)
        defer { H5Sclose(fileSpace) }
        let memorySpace = H5Screate_simple(3, count, nil)
        defer { H5Sclose(memorySpace) }
        guard H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nil, count, nil) >= 0,
              H5Dwrite(dataset, localscale_h5t_native_float(), memorySpace, fileSpace, localscale_h5p_default(),
                       values.baseAddress) >= 0 else {
            throw Self.failure(path, "cannot write the file (disk full?)")
        }
    }

    /// Closes the dataset and this identifier of the file.
    func close() throws {
        let closed = H5Dclose(dataset) >= 0
        dataset = -1
        let fileClosed = H5Fclose(file) >= 0
        file = -1
        guard closed && fileClosed else { throw Self.failure(path, "cannot write the file (disk full?)") }
    }
}
