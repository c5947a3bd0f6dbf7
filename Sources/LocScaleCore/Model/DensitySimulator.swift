import Foundation
import Synchronization

/// Why a model map cannot be simulated on a grid.
public enum SimulationError: Error, Equatable, CustomStringConvertible {
    case resolutionBeyondNyquist(resolution: Double, nyquist: Double)
    case modelOutsideBox(path: String, fractionInside: Double, modelBox: String, mapBox: String)

    public var description: String {
        switch self {
        case let .resolutionBeyondNyquist(resolution, nyquist):
            return "--resolution \(formatDecimal(resolution)) Å is finer than the map's Nyquist limit \(formatDecimal(nyquist)) Å"
        case let .modelOutsideBox(path, fraction, modelBox, mapBox):
            return "\(path): only \(formatDecimal(100 * fraction, digits: 1)) % of the atoms lie inside the map box (model \(modelBox) Å, map \(mapBox) Å); are model and map in the same frame?"
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
    /// The smallest total B (form factor + atom + extra blur) any Gaussian gets, Å².
    public let minimumTotalB = 40.0
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
    }

    /// Fails when fewer than half of the atoms lie inside the map box (a frame mismatch).
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
    }

    /// The model map of `model` on `grid`, computed with `threads` threads (the result does not
    /// depend on their number).
    public func simulate(_ model: AtomicModel, threads: Int) -> Volume {
        simulateTimed(model, threads: threads).map
    }

    /// `simulate`, with the seconds spent summing atoms and in the Fourier part (FFTs, cut, fold).
    public func simulateTimed(_ model: AtomicModel, threads: Int) -> (map: Volume, atomSeconds: Double, fourierSeconds: Double) {
        let started = Date()
        let n = grid.shape
        let fine = XYZ(oversampling * n.x, oversampling * n.y, oversampling * n.z)
        let spacing = XYZ(grid.voxelSize.x / Double(oversampling), grid.voxelSize.y / Double(oversampling),
                          grid.voxelSize.z / Double(oversampling))
        var smallestB = Double.infinity
        for atom in model.atoms {
            var atomB = Double(atom.bIso)
            if let u = atom.anisotropicU { atomB = 8 * Double.pi * Double.pi * Double(min(u.u11, u.u22, u.u33)) }
            smallestB = min(smallestB, model.formFactors[atom.element]!.b.min()! + atomB)
        }
        let blur = max(0, minimumTotalB - smallestB)

        // Real-space sum on the fine grid, z-blocks per thread (no two threads write a voxel).
        let density = AlignedBuffer<Float>(count: fine.x * fine.y * fine.z)
        let sources = model.atoms.map { AtomDensity(atom: $0, formFactor: model.formFactors[$0.element]!, blur: blur,
                                                     cutoff: cutoff) }
        let first = grid.firstVoxelPosition
        let relative = model.atoms.map { atom in
            SIMD3(atom.position.x - first.x, atom.position.y - first.y, atom.position.z - first.z)
        }
        let blocks = max(1, min(threads, fine.z))
        let output = UnsafeSendableBuffer(density.buffer)
        LocalScaling.runOnThreads(blocks) { block in
            let zRange = (block * fine.z / blocks) ..< ((block + 1) * fine.z / blocks)
            for (atom, position) in zip(sources, relative) {
                atom.add(at: position, to: output.buffer, shape: fine, spacing: spacing, zRange: zRange)
            }
        }

        let summed = Date()

        // Fine-grid coefficients → unblur → |s| ≤ 1/d → fold onto the map grid → inverse FFT.
        let fineSpectrum = AlignedBuffer<Float>(count: 2 * fine.z * fine.y * (fine.x / 2 + 1))
        let forward = RealToComplexPlan3D(nz: fine.z, ny: fine.y, nx: fine.x, planning: .estimate, threads: threads,
                                          buffers: (density, fineSpectrum))
        forward.execute(density, fineSpectrum)
        let coarseHalf = n.x / 2 + 1
        let coarse = AlignedBuffer<Float>(count: 2 * n.z * n.y * coarseHalf)
        let cell = XYZ(Double(n.x) * grid.voxelSize.x, Double(n.y) * grid.voxelSize.y, Double(n.z) * grid.voxelSize.z)
        let limit = 1 / (resolution * resolution) * (1 + 1e-9)
        let fineHalf = fine.x / 2 + 1
        func signed(_ k: Int, _ size: Int) -> Int { k <= size / 2 ? k : k - size }
        func wrap(_ h: Int, _ size: Int) -> Int { ((h % size) + size) % size }
        for kz in 0..<fine.z {
            let hz = signed(kz, fine.z)
            let sz = Double(hz) / cell.z
            guard sz * sz <= limit else { continue }
            for ky in 0..<fine.y {
                let hy = signed(ky, fine.y)
                let sy = Double(hy) / cell.y
                guard sz * sz + sy * sy <= limit else { continue }
                for hx in 0..<fineHalf {
                    let sx = Double(hx) / cell.x
                    let s2 = sz * sz + sy * sy + sx * sx
                    if s2 > limit { break }
                    let unblur = Float(exp(blur * s2 / 4))
                    let from = 2 * ((kz * fine.y + ky) * fineHalf + hx)
                    let re = fineSpectrum.pointer[from] * unblur, im = fineSpectrum.pointer[from + 1] * unblur
                    let to = 2 * ((wrap(hz, n.z) * n.y + wrap(hy, n.y)) * coarseHalf + hx)
                    coarse.pointer[to] += re
                    coarse.pointer[to + 1] += im
                    if n.x % 2 == 0 && hx == n.x / 2 {
                        // F(h, k, −N/2) = conj F(−h, −k, N/2) folds onto the same Nyquist column.
                        let mirror = 2 * ((wrap(-hz, n.z) * n.y + wrap(-hy, n.y)) * coarseHalf + hx)
                        coarse.pointer[mirror] += re
                        coarse.pointer[mirror + 1] -= im
                    }
                }
            }
        }
        let values = AlignedBuffer<Float>(count: n.x * n.y * n.z)
        let inverse = ComplexToRealPlan3D(nz: n.z, ny: n.y, nx: n.x, threads: threads, buffers: (coarse, values))
        inverse.execute(coarse, values)
        let scale = 1 / Float(fine.x * fine.y * fine.z)
        let map = Volume(grid: grid, values: values.buffer.map { $0 * scale })
        return (map, summed.timeIntervalSince(started), Date().timeIntervalSince(summed))
    }
}

/// Hands a buffer to threads that write disjoint parts of it.
struct UnsafeSendableBuffer: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Float>
    init(_ buffer: UnsafeMutableBufferPointer<Float>) { self.buffer = buffer }
}
