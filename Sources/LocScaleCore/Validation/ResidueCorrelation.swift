/// Voxels of `grid` within `distance` Å of any of `atoms` (linear (z, y, x) indices, ascending).
public func voxels(near atoms: [Atom], on grid: Grid, within distance: Double) -> [Int] {
    var near = Set<Int>()
    let first = grid.firstVoxelPosition, h = grid.voxelSize
    for atom in atoms {
        let p = atom.position
        let low = (0..<3).map { max(0, Int(((p[$0] - first[$0] - distance) / h[$0]).rounded(.up))) }
        let high = (0..<3).map { min(grid.shape[$0] - 1, Int(((p[$0] - first[$0] + distance) / h[$0]).rounded(.down))) }
        guard low[0] <= high[0], low[1] <= high[1], low[2] <= high[2] else { continue }
        for z in low[2]...high[2] {
            for y in low[1]...high[1] {
                for x in low[0]...high[0] {
                    let d = SIMD3(first.x + Double(x) * h.x - p.x, first.y + Double(y) * h.y - p.y,
                                  first.z + Double(z) * h.z - p.z)
                    if (d * d).sum() <= distance * distance { near.insert(grid.index(x: x, y: y, z: z)) }
                }
            }
        }
    }
    return near.sorted()
}

/// The real-space correlation of a map with a model map around one residue.
public struct ResidueCorrelation: Sendable {
    public let chain: String
    public let number: Int?
    public let insertionCode: Character?
    public let name: String
    /// Pearson correlation over the voxels within `distance` Å of the residue's atoms.
    public let correlation: Double
    /// How many voxels that was.
    public let voxelCount: Int

    /// One row per residue of `model` (in file order; altlocs of a residue together).
    public static func perResidue(map: Volume, modelMap: Volume, model: AtomicModel,
                                  within distance: Double = 2.5) -> [ResidueCorrelation] {
        var order: [String] = []
        var groups: [String: [Atom]] = [:]
        for atom in model.atoms {
            let key = "\(atom.chain)/\(atom.residueNumber.map(String.init) ?? "?")\(atom.insertionCode.map { String($0) } ?? "")/\(atom.residueName)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(atom)
        }
        return order.map { key in
            let atoms = groups[key]!
            let selected = voxels(near: atoms, on: map.grid, within: distance)
            let r = selected.count > 1 ? MapComparison.correlation(map.values, modelMap.values, over: selected) : .nan
            return ResidueCorrelation(chain: atoms[0].chain, number: atoms[0].residueNumber,
                                      insertionCode: atoms[0].insertionCode, name: atoms[0].residueName,
                                      correlation: r, voxelCount: selected.count)
        }
    }
}
