import Testing
import LocScaleCore

@Suite("Electron form factors (International Tables C 4.3.2.2 via gemmi)")
struct FormFactorTests {
    /// Expected coefficients from gemmi's Python package (PyPI gemmi 0.7.5):
    /// `gemmi.Element(el).c4322.a` / `.b`, and `.calculate_sf(stol2)` at (sin θ/λ)² = 0.25 Å⁻²,
    /// which it evaluates in single precision.
    static let reference: [(element: String, a: [Double], b: [Double], sfAtStol2Quarter: Double)] = [
        ("C", [0.0893, 0.2563, 0.757, 1.0487, 0.3575], [0.2465, 1.71, 6.4094, 18.6113, 50.2523],
         0.413582980632782),
        ("N", [0.1022, 0.3219, 0.7982, 0.8197, 0.1715], [0.2451, 1.7481, 6.1925, 17.3894, 48.1431],
         0.48440176248550415),
        ("O", [0.0974, 0.2921, 0.691, 0.699, 0.2039], [0.2067, 1.3815, 4.6943, 12.7105, 32.4726],
         0.5421848297119141),
        ("H", [0.0349, 0.1201, 0.197, 0.0573, 0.1195], [0.5347, 3.5867, 12.3471, 18.9525, 38.6269],
         0.08902689814567566),
        ("Fe", [0.3946, 1.2725, 1.7031, 2.314, 1.4795], [0.2717, 2.0443, 7.6007, 29.9714, 86.2265],
         1.3879711627960205),
        ("Cf", [1.2089, 2.7391, 4.3482, 4.0047, 4.6497], [0.2421, 1.7487, 6.7262, 23.2153, 80.3108],
         3.72818660736084),
    ]

    @Test("coefficients of C, N, O, H, Fe, Cf equal gemmi Python's; f(s) matches calculate_sf")
    func coefficients() throws {
        for ref in Self.reference {
            let f = try ElectronFormFactor(element: ref.element)
            #expect(f.element == ref.element)
            #expect(f.a == ref.a, "\(ref.element)")
            #expect(f.b == ref.b, "\(ref.element)")
            #expect(f.value(atSSquared: 0) == ref.a.reduce(0, +))
            // s² = 1/d² = 4 (sin θ/λ)²: (sin θ/λ)² = 0.25 is s² = 1 Å⁻² (d = 1 Å).
            let v = f.value(atSSquared: 1)
            #expect(abs(v - ref.sfAtStol2Quarter) < 1e-6 * ref.sfAtStol2Quarter, "\(ref.element): \(v)")
        }
    }

    @Test("symbols are case-insensitive; D is hydrogen's row")
    func spelling() throws {
        #expect(try ElectronFormFactor(element: "FE") == ElectronFormFactor(element: "fe"))
        #expect(try ElectronFormFactor(element: " fe").element == "Fe")
        let d = try ElectronFormFactor(element: "D")
        let h = try ElectronFormFactor(element: "H")
        #expect(d.a == h.a && d.b == h.b)
    }

    @Test("no row: unknown symbols, X, beyond Cf, and names longer than a symbol",
          arguments: ["X", "Qq", "Es", "Og", "", "Carbon", "C1"])
    func unknown(symbol: String) {
        #expect(throws: ModelError.noFormFactor(element: symbol)) {
            try ElectronFormFactor(element: symbol)
        }
    }
}
