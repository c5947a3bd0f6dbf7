import Foundation
import LocScaleCore
import LocScaleHDF5
import LocScaleParallel

/// `--hdf5`: `/map`, and beside it `/bfactor` (with the local B map) and `/mask` (with the
/// automatic mask, read back by planes from the mask file the run scaled with), written by every
/// rank's planes with parallel HDF5 (`ParallelHDF5Map`, collective), their attributes set by rank
/// 0 alone; then on rank 0, once the timings are gathered, `/timing` and `/provenance`.
struct HDF5MapOutput: ScaleOutput {
    let path: String
    let job: ScaleJob
    /// Ranks of the run.
    let ranks: Int
    /// The mask the run computed (`/mask`), if it did.
    let automaticMask: AutomaticMask?
    /// The file, created under its temporary name and left open on rank 0 by `writePlanes`.
    private var file: HDF5Writer?

    init(path: String, job: ScaleJob, ranks: Int, automaticMask: AutomaticMask?) {
        self.path = path
        self.job = job
        self.ranks = ranks
        self.automaticMask = automaticMask
    }

    mutating func writePlanes(_ slab: ScaledSlab, into outputs: OutputFiles, communicator comm: Communicator) throws
        -> Int {
        let tiling = slab.planes.tiling
        var slabs = [ParallelHDF5Map.Slab(name: "/map", planes: tiling, values: slab.values)]
        if let localB = slab.localB {
            slabs.append(ParallelHDF5Map.Slab(name: "/bfactor", planes: tiling, values: localB.values))
        }
        if automaticMask != nil, let reader = slab.mask {
            let mask = try comm.agree { try reader.read(planes: tiling) }.values
            slabs.append(ParallelHDF5Map.Slab(name: "/mask", planes: tiling, values: mask))
        }
        let file = try ParallelHDF5Map.write(slabs, shape: slab.grid.shape, to: path, in: outputs, communicator: comm)
        try comm.rootTries {
            guard let file else { return }
            try setMapAttributes(of: file, grid: slab.grid, setup: slab.setup)
            try slab.localB?.setAttributes(on: file)
            try automaticMask?.setAttributes(on: file)
        }
        self.file = file
        return slabs.reduce(0) { $0 + 4 * $1.values.count }
    }

    func finish(timings: TimingTable, into outputs: OutputFiles) throws {
        guard let file else { return }
        try timings.write(to: file)
        try writeProvenance(to: file)
        try file.close()
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

    /// `/provenance`: version, command line, inputs with their sizes in bytes, ranks and threads.
    private func writeProvenance(to file: HDF5Writer) throws {
        try file.group("/provenance")
        try file.setAttribute("version", job.provenance.build, on: "/provenance")
        try file.setAttribute("command_line", job.provenance.commandLine.joined(separator: " "), on: "/provenance")
        let givenMask = automaticMask == nil ? (job.mask.file.map { [$0] } ?? []) : []
        let inputs = job.experimental.paths + [job.model.path] + givenMask
        let sizes = inputs.map { ((try? FileManager.default.attributesOfItem(atPath: $0)[.size]) as? Int) ?? -1 }
        try file.setAttribute("inputs", zip(inputs, sizes).map { "\($0) (\($1) bytes)" }.joined(separator: "; "),
                              on: "/provenance")
        try file.setAttribute("ranks", [Double(ranks)], on: "/provenance")
        try file.setAttribute("threads_per_rank", [Double(job.threads)], on: "/provenance")
        try file.setAttribute("date", ISO8601DateFormatter().string(from: Date()), on: "/provenance")
    }
}
