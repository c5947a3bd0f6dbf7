/// Calls `body` with the linear (z, y, x) index of each voxel of `grid` on planes `planes` within
/// `distance` Å of one of `atoms` (a voxel near several atoms comes once per atom).
func forEachVoxel(near atoms: [Atom], on grid: Grid, within distance: Double, planes: Range<Int>,
                  _ body: (Int) -> Void) {
    let first = grid.firstVoxelPosition, h = grid.voxelSize
    let highest = [grid.shape.x - 1, grid.shape.y - 1, planes.upperBound - 1]
    for atom in atoms {
        let p = atom.position
        var low = (0..<3).map { max(0, Int(((p[$0] - first[$0] - distance) / h[$0]).rounded(.up))) }
        low[2] = max(low[2], planes.lowerBound)
        let high = (0..<3).map { min(highest[$0], Int(((p[$0] - first[$0] + distance) / h[$0]).rounded(.down))) }
        guard low[0] <= high[0], low[1] <= high[1], low[2] <= high[2] else { continue }
        for z in low[2]...high[2] {
            for y in low[1]...high[1] {
                for x in low[0]...high[0] {
                    let d = SIMD3(first.x + Double(x) * h.x - p.x, first.y + Double(y) * h.y - p.y,
                                  first.z + Double(z) * h.z - p.z)
                    if (d * d).sum() <= distance * distance { body(grid.index(x: x, y: y, z: z)) }
                }
            }
        }
    }
}

/// Voxels of `grid` within `distance` Å of any of `atoms` (linear (z, y, x) indices, ascending),
/// on planes `planes` (every plane by default).
public func voxels(near atoms: [Atom], on grid: Grid, within distance: Double, planes: Range<Int>? = nil) -> [Int] {
    var near = Set<Int>()
    forEachVoxel(near: atoms, on: grid, within: distance, planes: planes ?? 0..<grid.shape.z) { near.insert($0) }
    return near.sorted()
}

/// One flag per voxel of planes `planes` of `grid` ((z, y, x) order from the first plane's): set
/// when the voxel is within `distance` Å of one of `atoms`.
public func voxelFlags(near atoms: [Atom], on grid: Grid, within distance: Double, planes: Range<Int>) -> [Bool] {
    let planeVoxels = grid.shape.x * grid.shape.y, offset = planes.lowerBound * planeVoxels
    var flags = [Bool](repeating: false, count: planes.count * planeVoxels)
    forEachVoxel(near: atoms, on: grid, within: distance, planes: planes) { flags[$0 - offset] = true }
    return flags
}

/// The real-space correlation of a map with a model map around one residue.
public struct ResidueCorrelation: Sendable {
    public let chain: String
    public let number: Int?
    public let insertionCode: Character?
    public let name: String
    /// Pearson correlation over the voxels within `distance` Å of the residue's atoms (NaN when
    /// fewer than two voxels).
    public let correlation: Double
    /// How many voxels that was.
    public let voxelCount: Int

    /// The row of the residue of `atoms`.
    init(atoms: [Atom], correlation: Double, voxelCount: Int) {
        chain = atoms[0].chain
        number = atoms[0].residueNumber
        insertionCode = atoms[0].insertionCode
        name = atoms[0].residueName
        self.correlation = voxelCount > 1 ? correlation : .nan
        self.voxelCount = voxelCount
    }

    /// The atoms of each residue of `model`, residues in file order (altlocs of a residue together).
    public static func residues(of model: AtomicModel) -> [[Atom]] {
        var order: [String] = []
        var groups: [String: [Atom]] = [:]
        for atom in model.atoms {
            let number = atom.residueNumber.map(String.init) ?? "?"
            let key = "\(atom.chain)/\(number)\(atom.insertionCode.map { String($0) } ?? "")/\(atom.residueName)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(atom)
        }
        return order.map { groups[$0]! }
    }

    /// One row per residue of `model` (in file order; altlocs of a residue together).
    public static func perResidue(map: Volume, modelMap: Volume, model: AtomicModel,
                                  within distance: Double = 2.5) -> [ResidueCorrelation] {
        RealSpaceCorrelations(map: map.values, modelMap: modelMap.values, mask: nil, planes: 0..<map.grid.shape.z,
                              grid: map.grid, model: model, within: distance, fold: SlabCorrelation.wholeMap).residues
    }
}

/// The real-space correlations of a map with its model map that a validation reports — over the
/// mask (every voxel without one), within `distance` Å of the model's atoms, and per residue —
/// from one slab of planes, with `fold` continuing the sums over the slabs (see `SlabCorrelation`).
public struct RealSpaceCorrelations: Sendable {
    /// RSCC over the voxels where the mask is ≥ 0.5 (every voxel without a mask).
    public let masked: Double
    /// RSCC over the voxels within `distance` Å of any atom (with a model).
    public let nearAtoms: Double?
    /// RSCC per residue (with a model).
    public let residues: [ResidueCorrelation]

    /// `map`, `modelMap` and `mask` are the planes `planes` of maps on `grid`. Collective when
    /// `fold` is.
    public init(map: [Float], modelMap: [Float], mask: [Float]?, planes: Range<Int>, grid: Grid,
                model: AtomicModel?, within distance: Double = 2.5, fold: SlabCorrelation.Fold) rethrows {
        var selections = [mask.map { CorrelationVoxels.flagged($0.map { $0 >= 0.5 }) } ?? .all]
        let groups = model.map(ResidueCorrelation.residues) ?? []
        if let model {
            let offset = planes.lowerBound * grid.shape.x * grid.shape.y
            selections.append(.flagged(voxelFlags(near: model.atoms, on: grid, within: distance, planes: planes)))
            selections += groups.map { atoms in
                .indices(voxels(near: atoms, on: grid, within: distance, planes: planes).map { $0 - offset })
            }
        }
        let (values, counts) = try SlabCorrelation(selections: selections).correlations(map, modelMap, fold: fold)
        masked = values[0]
        nearAtoms = model == nil ? nil : values[1]
        residues = groups.indices.map {
            ResidueCorrelation(atoms: groups[$0], correlation: values[2 + $0], voxelCount: counts[2 + $0])
        }
    }
}
