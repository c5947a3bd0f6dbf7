import LocScaleCore
import LocScaleHDF5
import LocScaleParallel

extension ScaleRun {
    /// `--hdf5`'s `/map`, and beside it `/bfactor` (with the local B map) and `/mask` (with the
    /// automatic mask, read back by planes from the mask file the run scaled with): every rank
    /// writes its planes of each with parallel HDF5 (`ParallelHDF5Map`, collective), then rank 0
    /// alone sets the attributes. The file is created under its temporary name in `outputs` and
    /// stays open on rank 0 for `/timing` and `/provenance`.
    /// - Returns: the open file on rank 0 (nil elsewhere), and the bytes this rank wrote.
    func writeHDF5Map(_ values: [Float], planes: RankPlanes, files: InputFiles, setup: RunSetup, localB: LocalBSlab?,
                      to path: String, in outputs: OutputFiles) throws -> (file: HDF5Writer?, bytes: Int) {
        let tiling = planes.tiling
        var slabs = [ParallelHDF5Map.Slab(name: "/map", planes: tiling, values: values)]
        if let localB { slabs.append(ParallelHDF5Map.Slab(name: "/bfactor", planes: tiling, values: localB.values)) }
        if automaticMask != nil, let reader = files.mask {
            let mask = try comm.agree { try reader.read(planes: tiling) }.values
            slabs.append(ParallelHDF5Map.Slab(name: "/mask", planes: tiling, values: mask))
        }
        let file = try ParallelHDF5Map.write(slabs, shape: files.grid.shape, to: path, in: outputs, communicator: comm)
        try comm.rootTries {
            guard let file else { return }
            try setMapAttributes(of: file, grid: files.grid, setup: setup)
            try localB?.setAttributes(on: file)
            try automaticMask?.setAttributes(on: file)
        }
        return (file, slabs.reduce(0) { $0 + 4 * $1.values.count })
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
