import LocScaleCore
import LocScaleParallel

/// The maps `scale --report` validates, every rank holding its planes of them on
/// `MapValidation.slabPlanes` (no rank holds a whole map): the input maps as the run read them
/// (half maps averaged, before normalisation), moved there from the scaling's tiling planes, and
/// the half maps, read there from their files.
struct ReportSlabs {
    let grid: Grid
    /// This rank's planes of the validation (`MapValidation.slabPlanes`).
    let planes: Range<Int>
    /// Every rank's tiling planes of the scaling, which the output comes on.
    let scaling: RankPlanes
    let experimental: [Float]
    let model: [Float]
    let mask: [Float]?
    let halves: (first: [Float], second: [Float])?
    /// Bytes this rank read from the half maps' files.
    let bytesRead: Int

    /// Moves the tiling planes `experimental`, `model` and `mask` to the validation's planes and
    /// reads those of `halfMaps` (none, or two). Collective.
    init(experimental: ArraySlice<Float>, model: ArraySlice<Float>, mask: [Float]?, halfMaps: [MRCSlabReader],
         scaling: RankPlanes, grid: Grid, communicator comm: Communicator) throws {
        self.grid = grid
        self.scaling = scaling
        let planes = MapValidation.slabPlanes(of: grid, communicator: comm)
        self.planes = planes
        func moved(_ values: [Float]) throws -> [Float] {
            try Self.moved(values, from: scaling, to: planes, grid: grid, communicator: comm)
        }
        self.experimental = try moved(Array(experimental))
        self.model = try moved(Array(model))
        self.mask = try mask.map(moved)
        let halves = try halfMaps.map { reader in try comm.agree { try reader.read(planes: planes) } }
        self.halves = halves.count == 2 ? (halves[0].values, halves[1].values) : nil
        bytesRead = halves.reduce(0) { $0 + $1.bytesRead }
    }

    /// The validations of the input and of the output (`output`: this rank's tiling planes) with
    /// the atomic model `atoms` if any, on rank 0; nil on the other ranks. Collective.
    func validations(output: [Float], atoms: (path: String, options: AtomicModelOptions)?,
                     communicator comm: Communicator) throws -> [MapValidation]? {
        let model = try atoms.map { atoms in
            let load = { try atoms.options.read(atoms.path) }
            return try comm.rootTries(load) ?? load()
        }
        func validation(_ name: String, _ map: [Float], halves: (first: [Float], second: [Float])?,
                        resolution: Double?) throws -> MapValidation? {
            let slabs = ValidationSlabs(grid: grid, planes: planes, map: map, modelMap: self.model, mask: mask,
                                        halves: halves)
            return try MapValidation.distributed(name: name, slabs: slabs, model: model, resolution: resolution,
                                                 communicator: comm)
        }
        let resolution = atoms?.options.resolution
        let before = try validation("input", experimental, halves: halves, resolution: resolution)
        let after = try validation("output", Self.moved(output, from: scaling, to: planes, grid: grid, communicator: comm),
                                   halves: nil, resolution: resolution ?? before?.halfMapFSC?.resolution(at: 0.143))
        guard let before, let after else { return nil }
        return [before, after]
    }

    /// This rank's `wanted` planes of a map whose tiling planes `values` every rank holds. Collective.
    private static func moved(_ values: [Float], from scaling: RankPlanes, to wanted: Range<Int>, grid: Grid,
                              communicator comm: Communicator) throws -> [Float] {
        try PlaneSlabs(planes: scaling.tiling, values: values, planesOfAllRanks: scaling.tilings)
            .planes(wanted, planeStride: grid.shape.x * grid.shape.y, communicator: comm)
    }
}
