import Foundation
import LocScaleCore
import LocScaleParallel
import Logging

/// The input maps of a scale run, open on every rank for reading by planes: rank 0 opens them
/// first, reading and checking their headers (structure, geometry, the same grid), and every
/// other rank opens them with rank 0's headers. No data is read here.
struct InputFiles {
    /// The experimental map, or the two half maps that are averaged into it.
    let experimental: [MRCSlabReader]
    /// The model map; nil when it is simulated from an atomic model.
    let model: MRCSlabReader?
    let mask: MRCSlabReader?
    /// The experimental map's grid (every map's, checked).
    let grid: Grid
    /// The window in voxels, checked against the box.
    let window: Int

    /// What rank 0 found, sent to the others: every file's 1024 header bytes and the window.
    private struct Headers: Codable {
        var bytes: [[UInt8]]
        var window: Int
    }

    /// Opens the job's maps on every rank (collective). Rank 0 first checks that every output can
    /// be written, reads the headers (logging their warnings) and checks the grids and the window;
    /// a failure anywhere reaches every rank as one `AgreedFailure`.
    static func open(_ job: ScaleJob, communicator comm: Communicator, logger: Logger) throws -> InputFiles {
        let paths = job.experimental.paths + (job.model.atoms == nil ? [job.model.path] : [])
            + (job.mask.file.map { [$0] } ?? [])
        var readers: [MRCSlabReader] = []
        let found = try comm.rootTries { () throws -> Headers in
            for output in job.outputs.named {
                try OutputFiles.checkWritable(output.path, mayCreateFolder: output.option == "--report")
            }
            readers = try paths.map { path in
                let reader = try MRCSlabReader(path: path)
                try reader.checkWholeMapFits()
                return reader
            }
            readers.forEach { $0.header.warnings.forEach { logger.warning("\($0)") } }
            let window = try checkHeaders(readers, job: job, logger: logger)
            return Headers(bytes: try paths.map(headerBytes), window: window)
        }
        let headers = try JSONDecoder().decode(Headers.self, from: Data(
            comm.broadcast(Array(try found.map { try JSONEncoder().encode($0) } ?? Data()))))
        readers = try comm.agree {
            try comm.isRoot ? readers : zip(paths, headers.bytes).map { path, bytes in
                try MRCSlabReader(path: path, header: MRCHeader(bytes: bytes, path: path))
            }
        }
        let experimentalCount = job.experimental.paths.count
        let model = job.model.atoms == nil ? readers[experimentalCount] : nil
        return InputFiles(experimental: Array(readers[..<experimentalCount]), model: model,
                          mask: job.mask.file == nil ? nil : readers.last, grid: readers[0].grid,
                          window: headers.window)
    }

    /// Rank 0: the same grid for every map, and the window (chosen, logged and checked).
    private static func checkHeaders(_ readers: [MRCSlabReader], job: ScaleJob, logger: Logger) throws -> Int {
        let first = readers[0]
        for other in readers.dropFirst() {
            // The second half map is checked against the first, the others against the experimental map.
            try ScalingInputs.checkSameGrid(other.grid, of: other.path, as: first.grid, of: first.path)
        }
        if case .halfMaps(let firstPath, let secondPath) = job.experimental {
            logger.info("experimental map: the average of \(firstPath) and \(secondPath)")
        }
        let grid = first.grid
        var w = job.window ?? defaultWindow(meanVoxelSize: grid.meanVoxelSize)
        if job.rule == .locscale2 && w % 2 == 1 {
            logger.notice("--compat locscale2 rounds the window up to even: \(w) → \(w + 1) voxels")
            w += 1
        }
        let sizes = grid.voxelSize.array
        if sizes.max()! > sizes.min()! * 1.001 {
            let sizeText = sizes.map { formatDecimal($0) }.joined(separator: " × ")
            logger.warning("""
                \(job.experimental.path): voxel sizes differ per axis (\(sizeText) Å); \
                the window is \(w) voxels along each
                """)
        }
        try ScalingInputs.checkWindow(w, isDefault: job.window == nil, for: grid, path: first.path)
        return w
    }

    /// The first 1024 bytes of the file at `path` (its main header, already read once).
    private static func headerBytes(_ path: String) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ScaleJobError(description: "\(path): cannot open the map again to read its header")
        }
        defer { try? handle.close() }
        return Array(handle.readData(ofLength: MRCHeader.byteCount))
    }

    /// Every rank's tally of its equal share of the mask's planes, combined (collective): the
    /// voxels to scale per plane and their bounding box. The mask's planes are read here and
    /// checked to be finite and not empty.
    /// - Returns: the selection and the bytes this rank read.
    func selectVoxels(rule: ScalingRule, communicator comm: Communicator) throws -> (VoxelSelection, Int) {
        let shape = grid.shape
        let planes = shape.z * comm.rank / comm.size ..< shape.z * (comm.rank + 1) / comm.size
        var bytes = 0
        var values: [Float]?
        if let mask {
            let slab = try comm.agree { try mask.read(planes: planes) }
            bytes = slab.bytesRead
            try comm.agree { try slab.checkFinite() }
            values = slab.values
        }
        let local = PlaneTally(mask: values, planes: planes, shape: shape, window: window)
        let sums = try comm.allReduceSum((local.counts + local.croppedCounts + [local.bleeds ? 1 : 0]).map(Double.init))
        let lower = try comm.allReduceMin(local.lower.array.map(Double.init)).map { Int($0) }
        let upper = try comm.allReduceMax(local.upper.array.map(Double.init)).map { Int($0) }
        let tally = PlaneTally(counts: sums[..<shape.z].map { Int($0) },
                               croppedCounts: sums[shape.z ..< 2 * shape.z].map { Int($0) },
                               bleeds: sums[2 * shape.z] > 0, lower: XYZ(lower[0], lower[1], lower[2]),
                               upper: XYZ(upper[0], upper[1], upper[2]))
        if let mask, tally.counts.allSatisfy({ $0 == 0 }) {
            try comm.agree(ScalingInputError.emptyMask(path: mask.path).description)
        }
        return (VoxelSelection(tally: tally, shape: shape, rule: rule, window: window), bytes)
    }
}
