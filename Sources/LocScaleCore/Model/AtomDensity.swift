import Foundation

/// The real-space electron density of one atom: occupancy × Σᵢ of five Gaussians, each the
/// form factor's term `aᵢ exp(−bᵢ s²/4)` convolved with the atom's displacement (B or U) and
/// the simulation's extra blur. Units: Å, Å², density in the form factor's units per Å³.
struct AtomDensity: Sendable {
    /// Isotropic case: amplitude Aᵢ = occ · aᵢ (4π/Bᵢ)^{3/2} and rate kᵢ = 4π²/Bᵢ of each term,
    /// `ρ(r) = Σ Aᵢ exp(−kᵢ r²)`, with Bᵢ = bᵢ + B + B_extra.
    let amplitude: [Double]
    let rate: [Double]
    /// Anisotropic case (ANISOU): per term the inverse of Uᵢ = U + (bᵢ + B_extra)/(8π²) I, as
    /// (m11, m22, m33, m12, m13, m23), with `ρ(r) = Σ Aᵢ exp(−½ rᵀ Mᵢ r)`.
    let inverseU: [[Double]]?
    /// Radius in Å beyond which every term is below `cutoff` × the atom's peak.
    let radius: Double

    init(atom: Atom, formFactor: ElectronFormFactor, blur: Double, cutoff: Double) {
        let occupancy = Double(atom.occupancy)
        if let u = atom.anisotropicU {
            var amplitude: [Double] = [], inverse: [[Double]] = [], widest = 0.0
            for i in 0..<5 {
                let extra = (formFactor.b[i] + blur) / (8 * .pi * .pi)
                let (a, b, c) = (Double(u.u11) + extra, Double(u.u22) + extra, Double(u.u33) + extra)
                let (d, e, f) = (Double(u.u12), Double(u.u13), Double(u.u23))
                // Inverse of the symmetric [[a d e] [d b f] [e f c]] by cofactors.
                let c11 = b * c - f * f, c22 = a * c - e * e, c33 = a * b - d * d
                let c12 = e * f - d * c, c13 = d * f - b * e, c23 = d * e - a * f
                let det = a * c11 + d * c12 + e * c13
                inverse.append([c11 / det, c22 / det, c33 / det, c12 / det, c13 / det, c23 / det])
                amplitude.append(occupancy * formFactor.a[i] * pow(2 * .pi, -1.5) / det.squareRoot())
                // Largest eigenvalue ≤ largest absolute row sum (Gershgorin).
                widest = max(widest, max(a + abs(d) + abs(e), b + abs(d) + abs(f), c + abs(e) + abs(f)))
            }
            self.amplitude = amplitude
            self.rate = amplitude.map { _ in 1 / (2 * widest) }
            self.inverseU = inverse
        } else {
            let b = (0..<5).map { formFactor.b[$0] + Double(atom.bIso) + blur }
            amplitude = (0..<5).map { occupancy * formFactor.a[$0] * pow(4 * .pi / b[$0], 1.5) }
            rate = b.map { 4 * .pi * .pi / $0 }
            inverseU = nil
        }
        let peak = amplitude.reduce(0, +)
        var radius = 0.0
        for i in 0..<5 where amplitude[i] > cutoff * peak {
            radius = max(radius, (log(amplitude[i] / (cutoff * peak)) / rate[i]).squareRoot())
        }
        self.radius = radius
    }

    /// Adds this atom, centred at `position` (Å from voxel (0, 0, 0)), to the periodic grid of
    /// `shape` voxels spaced `spacing` Å apart — only to its planes in `zRange`. `density` holds
    /// the planes from `firstPlane` on, rows of `rowLength` floats (≥ shape.x, for padded layouts).
    func add(at position: SIMD3<Double>, to density: UnsafeMutableBufferPointer<Float>, shape: XYZ<Int>,
             spacing: XYZ<Double>, zRange: Range<Int>, firstPlane: Int = 0, rowLength: Int? = nil) {
        let rowLength = rowLength ?? shape.x
        let centre = XYZ(position.x / spacing.x, position.y / spacing.y, position.z / spacing.z)
        let low = XYZ(Int((centre.x - radius / spacing.x).rounded(.up)), Int((centre.y - radius / spacing.y).rounded(.up)),
                      Int((centre.z - radius / spacing.z).rounded(.up)))
        let high = XYZ(Int((centre.x + radius / spacing.x).rounded(.down)), Int((centre.y + radius / spacing.y).rounded(.down)),
                       Int((centre.z + radius / spacing.z).rounded(.down)))
        // Empty along some axis: a zero radius (occupancy 0) off the grid points.
        guard low.x <= high.x && low.y <= high.y && low.z <= high.z else { return }
        func wrap(_ i: Int, _ n: Int) -> Int { ((i % n) + n) % n }
        // Does any plane of the atom (wrapped) fall in this thread's block?
        if high.z - low.z + 1 < shape.z {
            var touches = false
            for iz in low.z...high.z where zRange.contains(wrap(iz, shape.z)) { touches = true; break }
            if !touches { return }
        }
        let nx = high.x - low.x + 1
        if let inverseU {
            for iz in low.z...high.z where zRange.contains(wrap(iz, shape.z)) {
                let dz = Double(iz) * spacing.z - position.z
                for iy in low.y...high.y {
                    let dy = Double(iy) * spacing.y - position.y
                    let row = ((wrap(iz, shape.z) - firstPlane) * shape.y + wrap(iy, shape.y)) * rowLength
                    for ix in low.x...high.x {
                        let dx = Double(ix) * spacing.x - position.x
                        var value = 0.0
                        for i in 0..<5 {
                            let m = inverseU[i]
                            let q = m[0] * dx * dx + m[1] * dy * dy + m[2] * dz * dz
                                + 2 * (m[3] * dx * dy + m[4] * dx * dz + m[5] * dy * dz)
                            value += amplitude[i] * exp(-0.5 * q)
                        }
                        density[row + wrap(ix, shape.x)] += Float(value)
                    }
                }
            }
            return
        }
        // Isotropic: exp(−k r²) = exp(−k dx²) exp(−k dy²) exp(−k dz²), tabulated per axis.
        var alongX = [Double](repeating: 0, count: 5 * nx)
        for i in 0..<5 {
            for ix in 0..<nx {
                let dx = Double(low.x + ix) * spacing.x - position.x
                alongX[i * nx + ix] = exp(-rate[i] * dx * dx)
            }
        }
        let columns = (0..<nx).map { wrap(low.x + $0, shape.x) }
        var weight = [Double](repeating: 0, count: 5)
        for iz in low.z...high.z where zRange.contains(wrap(iz, shape.z)) {
            let dz = Double(iz) * spacing.z - position.z
            for iy in low.y...high.y {
                let dy = Double(iy) * spacing.y - position.y
                // Only the voxels inside the sphere of `radius` (the cube would be 1.9× the work).
                let remaining = radius * radius - dy * dy - dz * dz
                if remaining < 0 { continue }
                let halfWidth = remaining.squareRoot()
                let first = max(0, Int(((position.x - halfWidth) / spacing.x).rounded(.up)) - low.x)
                let last = min(nx - 1, Int(((position.x + halfWidth) / spacing.x).rounded(.down)) - low.x)
                if first > last { continue }
                for i in 0..<5 { weight[i] = amplitude[i] * exp(-rate[i] * (dy * dy + dz * dz)) }
                let row = ((wrap(iz, shape.z) - firstPlane) * shape.y + wrap(iy, shape.y)) * rowLength
                for ix in first...last {
                    var value = 0.0
                    for i in 0..<5 { value += weight[i] * alongX[i * nx + ix] }
                    density[row + columns[ix]] += Float(value)
                }
            }
        }
    }
}
