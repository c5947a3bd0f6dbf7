#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The electron scattering factor of a neutral atom as a sum of five Gaussians, from
/// International Tables for Crystallography Vol. C (2011), table 4.3.2.2 (Peng et al. 1996),
/// as gemmi ships it in `c4322.hpp`. Defined for H (and D, which uses H's row) to Cf.
///
/// The table's own form is `f = Σᵢ aᵢ exp(−bᵢ (sin θ/λ)²)` with `aᵢ` in Å and `bᵢ` in Å².
/// This project writes spatial frequency as `s = 1/d = 2 sin θ/λ` (Å⁻¹), as in the Debye–Waller
/// factor `exp(−B s²/4)`, so here `f(s) = Σᵢ aᵢ exp(−bᵢ s²/4)`: see `value(atSSquared:)`.
public struct ElectronFormFactor: Sendable, Equatable {
    /// Element symbol, capitalised as usual ("C", "Fe").
    public let element: String
    /// The five amplitudes aᵢ, in Å (scattering amplitude per atom).
    public let a: [Double]
    /// The five widths bᵢ, in Å², for the table's variable sin θ/λ.
    public let b: [Double]

    /// The coefficients of `element` (case-insensitive, e.g. "C", "FE", "fe"; "D" is hydrogen).
    /// - Throws: `ModelError.noFormFactor` when the table has no row for it.
    public init(element: String) throws {
        let symbol = element.trimmingSpaces()
        guard let (a, b) = GemmiShim.c4322(symbol: symbol) else {
            throw ModelError.noFormFactor(element: element)
        }
        self.element = symbol.prefix(1).uppercased() + symbol.dropFirst().lowercased()
        self.a = a
        self.b = b
    }

    /// f(s) in Å at `sSquared` = s² = 1/d², in Å⁻² (so s = 2 sin θ/λ); the table holds for
    /// sin θ/λ ≤ 2 Å⁻¹, i.e. s² ≤ 16 Å⁻². f(0) = Σ aᵢ.
    public func value(atSSquared sSquared: Double) -> Double {
        let t = sSquared / 4  // (sin θ/λ)²
        var f = 0.0
        for i in 0..<5 { f += a[i] * exp(-b[i] * t) }
        return f
    }
}

extension String {
    /// The string without leading and trailing blanks (spaces and tabs).
    fileprivate func trimmingSpaces() -> String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !blank($0) }),
              let last = lastIndex(where: { !blank($0) }) else { return "" }
        return String(self[first...last])
    }
}
