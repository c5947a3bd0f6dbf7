import Foundation

/// The values an atom may hold for the simulation to mean anything and to stay bounded in time
/// and memory; `check` refuses the first atom of a model outside them.
enum AtomChecks {
    /// Largest |x|, |y|, |z| in Å: 1e6 Å (0.1 mm) is beyond any real frame (the PDB format holds
    /// −999.999…9999.999) and keeps every grid index derived from a position far inside `Int`.
    static let maximumCoordinate = 1e6
    /// Largest B in Å²: the PDB format holds at most 999.99; a B of 1000 Å² spreads an atom over
    /// ~20 Å (out to 1e-5 of its peak).
    static let maximumB = 1000.0
    /// Negative B down to −1 Å² (U eigenvalues down to −1/(8π²) Å²) is taken for rounding and
    /// made up by the simulator's extra blur.
    static let negativeBTolerance = 1.0
    /// Occupancies up to 1.01 are taken for rounding (the PDB format writes two decimals).
    static let occupancyTolerance = 0.01

    /// 8π²: B = 8π² U.
    static let bPerU = 8 * Double.pi * Double.pi

    /// Fails on the first atom (in file order) with a non-finite or absurd position, B, U or
    /// occupancy, and when every atom has zero occupancy.
    /// - Throws: `ModelError.badAtom`, `ModelError.zeroOccupancy`.
    static func check(_ atoms: [Atom], path: String, modelNumber: Int) throws {
        for atom in atoms {
            if let problem = problem(of: atom) {
                throw ModelError.badAtom(path: path, atom: atom.serialLabel, problem: problem)
            }
        }
        if !atoms.isEmpty && atoms.allSatisfy({ $0.occupancy == 0 }) {
            throw ModelError.zeroOccupancy(path: path, model: modelNumber, count: atoms.count)
        }
    }

    /// What is wrong with `atom`, as the end of an error line; nil when nothing is.
    static func problem(of atom: Atom) -> String? {
        for (axis, value) in zip(["x", "y", "z"], [atom.position.x, atom.position.y, atom.position.z]) {
            if !value.isFinite { return "\(axis) coordinate \(show(value)) Å is not finite" }
            if abs(value) > maximumCoordinate {
                return "\(axis) coordinate \(show(value)) Å is beyond ±\(show(maximumCoordinate)) Å"
            }
        }
        let occupancy = Double(atom.occupancy)
        if !occupancy.isFinite { return "occupancy \(show(occupancy)) is not finite" }
        if occupancy < 0 { return "occupancy \(show(atom.occupancy)) is negative" }
        if occupancy > 1 + occupancyTolerance { return "occupancy \(show(atom.occupancy)) is above 1" }
        let b = Double(atom.bIso)
        if !b.isFinite { return "B factor \(show(b)) Å² is not finite" }
        if b < -negativeBTolerance { return "B factor \(show(atom.bIso)) Å² is negative" }
        if b > maximumB { return "B factor \(show(atom.bIso)) Å² is above \(show(maximumB)) Å²" }
        guard let u = atom.anisotropicU else { return nil }
        let names = ["U11", "U22", "U33", "U12", "U13", "U23"]
        for (name, value) in zip(names, u.elements) where !value.isFinite {
            return "ANISOU \(name) \(show(value)) Å² is not finite"
        }
        let (smallest, largest) = u.eigenvalueRange
        if smallest < -negativeBTolerance / bPerU {
            return "ANISOU tensor has a negative eigenvalue \(show(smallest, digits: 4)) Å²"
        }
        if largest > maximumB / bPerU {
            return "ANISOU tensor has an eigenvalue \(show(largest, digits: 4)) Å² above"
                + " \(show(maximumB / bPerU, digits: 4)) Å² (B = 8π²U above \(show(maximumB)) Å²)"
        }
        return nil
    }

    /// A value as it reads best in an error line: integers without a fraction, others with up to
    /// `digits` significant digits (Swift's shortest form when nil), "nan", "inf".
    static func show<F: BinaryFloatingPoint & CustomStringConvertible>(_ value: F, digits: Int? = nil) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value == value.rounded() && abs(value) < 1e7 { return String(Int(value)) }
        if let digits { return String(format: "%.\(digits)g", Double(value)) }
        return value.description
    }
}

extension AnisotropicU {
    /// The smallest and largest eigenvalue of U, Å² (closed form for a symmetric 3×3 matrix;
    /// the elements must be finite).
    var eigenvalueRange: (smallest: Double, largest: Double) {
        let (a, b, c) = (Double(u11), Double(u22), Double(u33))
        let (d, e, f) = (Double(u12), Double(u13), Double(u23))
        let offDiagonal = d * d + e * e + f * f
        if offDiagonal == 0 { return (min(a, b, c), max(a, b, c)) }
        let q = (a + b + c) / 3
        let p = (((a - q) * (a - q) + (b - q) * (b - q) + (c - q) * (c - q) + 2 * offDiagonal) / 6).squareRoot()
        // det((U − qI)/p) / 2, clamped against rounding.
        let (ba, bb, bc, bd, be, bf) = ((a - q) / p, (b - q) / p, (c - q) / p, d / p, e / p, f / p)
        let det = ba * (bb * bc - bf * bf) - bd * (bd * bc - bf * be) + be * (bd * bf - bb * be)
        let phi = acos(min(1, max(-1, det / 2))) / 3
        return (q + 2 * p * cos(phi + 2 * Double.pi / 3), q + 2 * p * cos(phi))
    }
}
