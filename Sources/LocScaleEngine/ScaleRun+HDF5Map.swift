import LocScaleCore
import LocScaleHDF5
import LocScaleParallel

extension ScaleRun {
    /// `--hdf5`'s `/map` and its geometry attributes: every rank writes its planes with parallel
    /// HDF5 (`ParallelHDF5Map`, collective), then rank 0 alone sets the attributes. The file is
    /// created under its temporary name in `outputs` and stays open on rank 0 for `/timing` and
    /// `/provenance`.
    /// - Returns: the open file on rank 0 (nil elsewhere), and the bytes of `/map` this rank wrote.
    func writeHDF5Map(_ values: [Float], planes: RankPlanes, grid: Grid, setup: RunSetup, to path: String,
                      in outputs: OutputFiles) throws -> (file: HDF5Writer?, bytes: Int) {
        let file = try ParallelHDF5Map.write(planes: planes.tiling, values: values, shape: grid.shape, to: path,
                                             in: outputs, communicator: comm)
        try comm.rootTries { if let file { try setMapAttributes(of: file, grid: grid, setup: setup) } }
        return (file, 4 * values.count)
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
