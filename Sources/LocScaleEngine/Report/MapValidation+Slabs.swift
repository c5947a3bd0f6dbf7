import LocScaleCore
import LocScaleParallel

/// One rank's planes of the maps a validation compares: planes `planes` of maps on `grid`, each
/// in (z, y, x) order, x fastest. Every rank holds FFTW-MPI's planes of the grid
/// (`MapValidation.slabPlanes`).
public struct ValidationSlabs: Sendable {
    public let grid: Grid
    public let planes: Range<Int>
    public let map: [Float]
    public let modelMap: [Float]
    public let mask: [Float]?
    public let halves: (first: [Float], second: [Float])?

    public init(grid: Grid, planes: Range<Int>, map: [Float], modelMap: [Float], mask: [Float]?,
                halves: (first: [Float], second: [Float])?) {
        let count = planes.count * grid.shape.x * grid.shape.y
        precondition(([map, modelMap] + [mask, halves?.first, halves?.second].compactMap { $0 })
            .allSatisfy { $0.count == count }, "a slab's values are not its planes")
        self.grid = grid
        self.planes = planes
        self.map = map
        self.modelMap = modelMap
        self.mask = mask
        self.halves = halves
    }

    /// This slab's values of `role`.
    func values(_ role: MapValidation.Role) -> [Float] {
        switch role {
        case .map: map
        case .model: modelMap
        case .half1: halves!.first
        case .half2: halves!.second
        }
    }
}

extension MapValidation {
    /// The planes of `grid` this rank passes to `init(name:slabs:…)`: FFTW-MPI's z-slab.
    public static func slabPlanes(of grid: Grid, communicator: Communicator) -> Range<Int> {
        let n = grid.shape
        return DistributedRealFFT.localPlanes(nz: n.z, ny: n.y, nx: n.x, communicator: communicator)
    }

    /// The validation of the maps whose planes every rank holds (`slabs`, on `slabPlanes`), with
    /// no rank holding a whole map: the Fourier sums with FFTW-MPI, the real-space sums continued
    /// from rank to rank in plane order (`Communicator.fold`), so that every rank count gives one
    /// process's numbers bit for bit, and the central planes gathered to rank 0. Collective.
    /// - Returns: the validation on rank 0, nil on the other ranks.
    public static func distributed(name: String, slabs: ValidationSlabs, model: AtomicModel?, resolution: Double?,
                                   guinierFrom low: Double = 10,
                                   communicator comm: Communicator) throws -> MapValidation? {
        let grid = slabs.grid, shape = grid.shape
        let fourier = DistributedShellSums(comm: comm, grid: grid)
        precondition(fourier.planes == slabs.planes, "validation slabs are not FFTW-MPI's planes")
        var sums: [ShellSums] = []
        for request in requests(masked: slabs.mask != nil, halves: slabs.halves != nil) {
            sums.append(try fourier.sums(slabs.values(request.first), slabs.values(request.second),
                                         mask: request.masked ? slabs.mask : nil))
        }
        let realSpace = try RealSpaceCorrelations(map: slabs.map, modelMap: slabs.modelMap, mask: slabs.mask,
                                                  planes: slabs.planes, grid: grid, model: model, fold: comm.fold)
        let layout = try comm.allGather([Double(slabs.planes.lowerBound), Double(slabs.planes.count)])
        let planesOfRanks = (0..<comm.size).map { Int(layout[2 * $0]) ..< Int(layout[2 * $0] + layout[2 * $0 + 1]) }
        func gathered(_ values: [Float]) throws -> CentralSlices? {
            try CentralSlices.gathered(values, planes: slabs.planes, layout: planesOfRanks, shape: shape,
                                       communicator: comm)
        }
        let slices = try gathered(slabs.map)
        let maskSlices = try slabs.mask.map(gathered) ?? nil
        guard let slices else { return nil }
        return MapValidation(name: name, grid: grid, halfMaps: slabs.halves != nil, realSpace: realSpace,
                             slices: slices, maskSlices: maskSlices, resolution: resolution, guinierFrom: low,
                             sums: sums)
    }
}

/// Fourier-shell sums of two maps with FFTW-MPI on the z-slab layout: every rank puts its planes
/// in the transforms and sums its planes of the spectra, continuing the sums of the ranks before
/// it (`Communicator.fold`), so that the sums are one process's, plane by plane, for every rank
/// count.
struct DistributedShellSums {
    let comm: Communicator
    let grid: Grid
    private let first: DistributedRealFFT
    private let second: DistributedRealFFT

    init(comm: Communicator, grid: Grid) {
        self.comm = comm
        self.grid = grid
        let n = grid.shape
        first = DistributedRealFFT(nz: n.z, ny: n.y, nx: n.x, communicator: comm)
        second = DistributedRealFFT(nz: n.z, ny: n.y, nx: n.x, communicator: comm)
    }

    /// The planes of the grid this rank holds.
    var planes: Range<Int> { first.planes }

    /// The shell sums of `a·mask` and `b·mask` (this rank's planes), on every rank. Collective.
    func sums(_ a: [Float], _ b: [Float], mask: [Float]?) throws -> ShellSums {
        let n = grid.shape
        for (slab, fft) in [(a, first), (b, second)] {
            for p in 0..<fft.planes.count * n.y {
                let row = fft.local.baseAddress! + p * fft.rowLength
                for x in 0..<n.x { row[x] = slab[p * n.x + x] * (mask?[p * n.x + x] ?? 1) }
            }
            fft.forward()
        }
        let planeFloats = n.y * first.rowLength
        let values = try comm.fold(ShellSums(grid: grid).values) { running in
            var sums = ShellSums(grid: grid, values: running)
            for kz in first.planes {
                let offset = (kz - first.planes.lowerBound) * planeFloats
                sums.add(plane: kz, a: first.local.baseAddress! + offset, b: second.local.baseAddress! + offset)
            }
            return sums.values
        }
        return ShellSums(grid: grid, values: values)
    }
}
