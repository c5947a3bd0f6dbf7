import Foundation
import Synchronization

/// Why a model map cannot be simulated on a grid.
public enum SimulationError: Error, Equatable, CustomStringConvertible {
    case resolutionBeyondNyquist(resolution: Double, nyquist: Double)
    case modelOutsideBox(path: String, fractionInside: Double, modelBox: String, mapBox: String)
    /// An atom whose density (out to the simulator's cutoff) reaches farther than the map box is
    /// long along `axis`: summing it would wrap it around the box many times.
    case atomWiderThanBox(path: String, atom: String, radius: Double, axis: String, edge: Double)
    /// An atom whose position, in fine-grid voxels, is beyond what an index can hold.
    case atomBeyondGrid(path: String, atom: String, voxels: Double)

    public var description: String {
        switch self {
        case let .resolutionBeyondNyquist(resolution, nyquist):
            return "--resolution \(formatDecimal(resolution)) Å is finer than the map's Nyquist limit \(formatDecimal(nyquist)) Å"
        case let .modelOutsideBox(path, fraction, modelBox, mapBox):
            return "\(path): only \(formatDecimal(100 * fraction, digits: 1)) % of the atoms lie inside the map box "
                + "(model \(modelBox) Å, map \(mapBox) Å); are model and map in the same frame?"
        case let .atomWiderThanBox(path, atom, radius, axis, edge):
            return "\(path): atom \(atom) spreads \(formatDecimal(radius, digits: 1)) Å from its centre, more than"
                + " the map box's \(axis) edge of \(formatDecimal(edge)) Å; is the voxel size right?"
        case let .atomBeyondGrid(path, atom, voxels):
            return "\(path): atom \(atom) lies \(AtomChecks.show(voxels, digits: 3)) voxels from the map's first voxel,"
                + " too far to index; is the voxel size right?"
        }
    }
}

/// A model map: the electron scattering density of an atomic model on the grid of a map,
/// band-limited to `resolution` with a sharp cut, free of aliasing (DESIGN §1.3).
///
/// Each atom is the sum of its five Gaussians (International Tables C 4.3.2.2), convolved with
/// its B (isotropic, or ANISOU when present) and an extra blur `B_extra`, scaled by occupancy,
/// and summed in real space — out to where it falls below 1e-5 of its peak — on a grid twice as
/// fine as the map along every axis, the map box taken as the periodic cell. The fine grid's
/// Fourier coefficients with `|s| ≤ 1/resolution` are multiplied by `exp(B_extra s²/4)` to take
/// the blur out and folded onto the map's own grid, whose inverse FFT gives the band-limited
/// density at the map's voxels. The blur makes every atom smooth on the fine grid (what lies
/// beyond its Nyquist is below 1e-12), so nothing aliases into the kept band.
public struct DensitySimulator: Sendable {
    /// The map grid (shape, voxel size in Å, origin; axis order is only a file matter).
    public let grid: Grid
    /// `d_min` in Å: coefficients with `|s| ≤ 1/resolution` are kept.
    public let resolution: Double
    /// Fine-grid points per map voxel along each axis.
    public let oversampling = 2
    /// The smallest total B (form factor + atom + extra blur) any Gaussian gets, Å²: 40 Å² for
    /// voxels of 0.5 Å and more, 160 Å⁻² × (largest voxel size)² below, so that the unblur
    /// `exp(B_extra s²/4)` at the cut stays under e¹⁰ (with 40 Å² it reaches 10²⁷ at 0.2 Å voxels
    /// and float rounding noise becomes the map) with the same margin against aliasing as at 0.5 Å.
    public let minimumTotalB: Double
    /// Relative level, against an atom's peak, out to which it is summed.
    public let cutoff = 1e-5

    /// - Parameter resolution: `d_min` in Å; nil for Nyquist (2 × the largest voxel size).
    public init(grid: Grid, resolution: Double?) throws {
        self.grid = grid
        let nyquist = 2 * grid.voxelSize.array.max()!
        let d = resolution ?? nyquist
        guard d >= nyquist * (1 - 1e-9) else {
            throw SimulationError.resolutionBeyondNyquist(resolution: d, nyquist: nyquist)
        }
        self.resolution = d
        let largest = grid.voxelSize.array.max()!
        minimumTotalB = min(40, 160 * largest * largest)
    }

    /// Fails when fewer than half of the atoms lie inside the map box (a frame mismatch), when an
    /// atom's density reaches farther than the box is long, or when an atom lies too many voxels
    /// away to index (so `sumAtoms` neither overflows nor runs without bound). Call it before
    /// `simulate` or `sumAtoms`.
    public func checkFrame(_ model: AtomicModel) throws {
        let first = grid.firstVoxelPosition
        let size = XYZ(Double(grid.shape.x) * grid.voxelSize.x, Double(grid.shape.y) * grid.voxelSize.y,
                       Double(grid.shape.z) * grid.voxelSize.z)
        var inside = 0
        var low = SIMD3<Double>(repeating: .infinity), high = SIMD3<Double>(repeating: -.infinity)
        for atom in model.atoms {
            let p = atom.position
            low = pointwiseMin(low, p)
            high = pointwiseMax(high, p)
            if (0..<3).allSatisfy({ p[$0] >= first[$0] && p[$0] < first[$0] + size[$0] }) { inside += 1 }
        }
        let fraction = Double(inside) / Double(max(model.atoms.count, 1))
        guard fraction >= 0.5 else {
            func box(_ a: [Double], _ b: [Double]) -> String {
                "(" + a.map { formatDecimal($0, digits: 1) }.joined(separator: ", ") + ")–(" +
                    b.map { formatDecimal($0, digits: 1) }.joined(separator: ", ") + ")"
            }
            throw SimulationError.modelOutsideBox(
                path: model.path, fractionInside: fraction,
                modelBox: box([low.x, low.y, low.z], [high.x, high.y, high.z]),
                mapBox: box(first.array, (0..<3).map { first[$0] + size[$0] }))
        }
        try checkReach(model)
    }

    /// Fails on the first atom whose radius (out to `cutoff`) exceeds the box edge along an axis,
    /// or whose extent in fine-grid voxels is beyond ±2⁵⁰.
    private func checkReach(_ model: AtomicModel) throws {
        let atoms = PreparedAtoms(model, simulator: self)
        let edge = grid.voxelSize.array.indices.map { Double(grid.shape.array[$0]) * grid.voxelSize.array[$0] }
        let spacing = grid.voxelSize.array.map { $0 / Double(oversampling) }
        for (index, (density, position)) in zip(atoms.densities, atoms.positions).enumerated() {
            for axis in 0..<3 {
                let label = model.atoms[index].serialLabel
                if !(density.radius <= edge[axis]) {
                    throw SimulationError.atomWiderThanBox(path: model.path, atom: label, radius: density.radius,
                                                           axis: ["x", "y", "z"][axis], edge: edge[axis])
                }
                let voxels = (abs(position[axis]) + density.radius) / spacing[axis]
                if !(voxels < 0x1p50) {
                    throw SimulationError.atomBeyondGrid(path: model.path, atom: label, voxels: voxels)
                }
            }
        }
    }

    /// The model map of `model` on `grid`, computed with `threads` threads (the result does not
    /// depend on their number).
    public func simulate(_ model: AtomicModel, threads: Int) -> Volume {
        let n = grid.shape, fine = fineShape
        let atoms = PreparedAtoms(model, simulator: self)
        let density = AlignedBuffer<Float>(count: fine.x * fine.y * fine.z)
        sumAtoms(atoms, into: density.buffer, planes: 0..<fine.z, rowLength: fine.x, threads: threads)

        // Fine-grid coefficients → unblur → |s| ≤ 1/d → fold onto the map grid → inverse FFT.
        let fineHalf = fine.x / 2 + 1
        let fineSpectrum = AlignedBuffer<Float>(count: 2 * fine.z * fine.y * fineHalf)
        let forward = RealToComplexPlan3D(nz: fine.z, ny: fine.y, nx: fine.x, planning: .estimate, threads: threads,
                                          buffers: (density, fineSpectrum))
        forward.execute(density, fineSpectrum)
        let coarseHalf = n.x / 2 + 1
        let coarse = AlignedBuffer<Float>(count: 2 * n.z * n.y * coarseHalf)
        for kz in 0..<fine.z {
            fold(plane: kz, of: fineSpectrum.pointer + 2 * kz * fine.y * fineHalf, blur: atoms.blur) { cz, cy, cx, re, im in
                let to = 2 * ((cz * n.y + cy) * coarseHalf + cx)
                coarse.pointer[to] += re
                coarse.pointer[to + 1] += im
            }
        }
        let values = AlignedBuffer<Float>(count: n.x * n.y * n.z)
        let inverse = ComplexToRealPlan3D(nz: n.z, ny: n.y, nx: n.x, threads: threads, buffers: (coarse, values))
        inverse.execute(coarse, values)
        let scale = 1 / Float(fine.x * fine.y * fine.z)
        return Volume(grid: grid, values: values.buffer.map { $0 * scale })
    }

    /// The fine grid: `oversampling` points per map voxel along every axis.
    public var fineShape: XYZ<Int> {
        XYZ(oversampling * grid.shape.x, oversampling * grid.shape.y, oversampling * grid.shape.z)
    }

    /// Sums `atoms` on the fine grid's planes `planes` (a slab: `buffer` holds those planes,
    /// rows of `rowLength` floats), the planes split among `threads` threads. The value of a
    /// voxel does not depend on the slab or the threads: every voxel adds the atoms in model order.
    public func sumAtoms(_ atoms: PreparedAtoms, into buffer: UnsafeMutableBufferPointer<Float>,
                         planes: Range<Int>, rowLength: Int, threads: Int) {
        let fine = fineShape
        let spacing = XYZ(grid.voxelSize.x / Double(oversampling), grid.voxelSize.y / Double(oversampling),
                          grid.voxelSize.z / Double(oversampling))
        let blocks = max(1, min(threads, planes.count))
        let output = UnsafeSendable(buffer)
        LocalScaling.runOnThreads(blocks) { block in
            let zRange = (planes.lowerBound + block * planes.count / blocks) ..< (planes.lowerBound + (block + 1) * planes.count / blocks)
            for (atom, position) in zip(atoms.densities, atoms.positions) {
                atom.add(at: position, to: output.value, shape: fine, spacing: spacing, zRange: zRange,
                         firstPlane: planes.lowerBound, rowLength: rowLength)
            }
        }
    }

    /// Emits, for fine-grid plane `kz` of the r2c spectrum (`plane`: `fine.y × (fine.x/2+1)`
    /// complex values), every coefficient with `|s| ≤ 1/resolution`, unblurred by
    /// `exp(blur s²/4)`, as a contribution `(cz, cy, cx, re, im)` to the map grid's r2c spectrum
    /// (the Nyquist column's mirror contribution too). Summing the contributions gives the folded
    /// spectrum whose inverse FFT, divided by the fine grid's voxel count, is the model map.
    public func fold(plane kz: Int, of plane: UnsafePointer<Float>, blur: Double,
                     emit: (Int, Int, Int, Float, Float) -> Void) {
        let n = grid.shape, fine = fineShape
        let cell = XYZ(Double(n.x) * grid.voxelSize.x, Double(n.y) * grid.voxelSize.y, Double(n.z) * grid.voxelSize.z)
        let limit = 1 / (resolution * resolution) * (1 + 1e-9)
        let fineHalf = fine.x / 2 + 1
        func signed(_ k: Int, _ size: Int) -> Int { k <= size / 2 ? k : k - size }
        func wrap(_ h: Int, _ size: Int) -> Int { ((h % size) + size) % size }
        let hz = signed(kz, fine.z)
        let sz = Double(hz) / cell.z
        guard sz * sz <= limit else { return }
        for ky in 0..<fine.y {
            let hy = signed(ky, fine.y)
            let sy = Double(hy) / cell.y
            guard sz * sz + sy * sy <= limit else { continue }
            for hx in 0..<fineHalf {
                let sx = Double(hx) / cell.x
                let s2 = sz * sz + sy * sy + sx * sx
                if s2 > limit { break }
                let unblur = Float(exp(blur * s2 / 4))
                let from = 2 * (ky * fineHalf + hx)
                let re = plane[from] * unblur, im = plane[from + 1] * unblur
                emit(wrap(hz, n.z), wrap(hy, n.y), hx, re, im)
                if n.x % 2 == 0 && hx == n.x / 2 {
                    // F(h, k, −N/2) = conj F(−h, −k, N/2) folds onto the same Nyquist column.
                    emit(wrap(-hz, n.z), wrap(-hy, n.y), hx, re, -im)
                }
            }
        }
    }
}

/// The atoms of a model made ready for summing: each atom's density (Gaussians with B or U and
/// the extra blur) and its position relative to the map's voxel (0, 0, 0), in Å.
public struct PreparedAtoms: Sendable {
    let densities: [AtomDensity]
    let positions: [SIMD3<Double>]
    /// The extra blur B_extra in Å²: enough that every Gaussian's total B is at least
    /// `DensitySimulator.minimumTotalB`.
    public let blur: Double

    public init(_ model: AtomicModel, simulator: DensitySimulator) {
        var smallestB = Double.infinity
        for atom in model.atoms {
            var atomB = Double(atom.bIso)
            if let u = atom.anisotropicU {
                // The smallest diagonal element, or a negative eigenvalue (AtomChecks lets small
                // ones through) so that every Gaussian's U + (bᵢ + B_extra)/(8π²) stays positive.
                let lowest = u.eigenvalueRange.smallest
                atomB = 8 * Double.pi * Double.pi * (lowest < 0 ? lowest : Double(min(u.u11, u.u22, u.u33)))
            }
            smallestB = min(smallestB, model.formFactors[atom.element]!.b.min()! + atomB)
        }
        let blur = max(0, simulator.minimumTotalB - smallestB)
        self.blur = blur
        densities = model.atoms.map { AtomDensity(atom: $0, formFactor: model.formFactors[$0.element]!, blur: blur,
                                                   cutoff: simulator.cutoff) }
        let first = simulator.grid.firstVoxelPosition
        positions = model.atoms.map { SIMD3($0.position.x - first.x, $0.position.y - first.y, $0.position.z - first.z) }
    }
}
