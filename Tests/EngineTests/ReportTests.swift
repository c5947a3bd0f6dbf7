import Foundation
import Testing
import LocScaleCore
@testable import LocScaleEngine

/// The report's pieces that need no MPI: central slices cut from slabs, the slice images'
/// contrast, the histogram, the per-residue before/after table.
@Suite("Validation report pieces")
struct ReportTests {
    /// A 5 × 4 × 7 map whose voxel (x, y, z) holds 100·z + 10·y + x.
    static let shape = XYZ(5, 4, 7)

    static func value(_ x: Int, _ y: Int, _ z: Int) -> Float { Float(100 * z + 10 * y + x) }

    static var values: [Float] {
        var values: [Float] = []
        for z in 0..<7 { for y in 0..<4 { for x in 0..<5 { values.append(value(x, y, z)) } } }
        return values
    }

    @Test("slabs' parts of the central planes, put in plane order, are the whole map's planes")
    func slicesFromSlabs() {
        let s = Self.shape
        let whole = CentralSlices(wholeMap: Self.values, shape: s)
        var xy: [Float] = [], xz: [Float] = [], yz: [Float] = []
        for y in 0..<4 { for x in 0..<5 { xy.append(Self.value(x, y, 3)) } }
        for z in 0..<7 { for x in 0..<5 { xz.append(Self.value(x, 2, z)) } }
        for z in 0..<7 { for y in 0..<4 { yz.append(Self.value(2, y, z)) } }
        #expect(whole.xy == xy)
        #expect(whole.xz == xz)
        #expect(whole.yz == yz)
        for cuts in [[0, 3, 7], [0, 0, 1, 4, 7], [0, 7, 7]] {
            var parts: [[Float]] = [[], [], []]
            for (low, high) in zip(cuts, cuts.dropFirst()) {
                let slab: [Float] = Array(Self.values[low * 20 ..< high * 20])
                let mine = CentralSlices.parts(of: slab, planes: low..<high, shape: s)
                #expect(mine[0].isEmpty == !(low..<high).contains(3))
                for i in 0..<3 { parts[i].append(contentsOf: mine[i]) }
            }
            let expected: [[Float]] = [xy, xz, yz]
            #expect(parts == expected, "cuts \(cuts)")
        }
        let titles = whole.images.map(\.title)
        #expect(titles == ["x = 2", "y = 2", "z = 3"])
        #expect(whole.images[0].rows.count == 7 && whole.images[0].rows[0].count == 4)
    }

    /// The fills of an image's squares, in drawing order.
    static func fills(_ svg: String) -> [String] {
        svg.components(separatedBy: "fill=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
    }

    @Test("slice contrast comes from percentiles inside the mask: a small molecule in a large solvent is not flat")
    func sliceContrastInsideMask() {
        // 20 × 20 squares: 0 everywhere but four squares of 1, 2, 3, 4 — the only ones in the mask.
        var slice = [[Float]](repeating: [Float](repeating: 0, count: 20), count: 20)
        var mask = slice
        for (i, v) in [1, 2, 3, 4].enumerated() {
            slice[10][8 + i] = Float(v)
            mask[10][8 + i] = 1
        }
        let plain = Self.fills(sliceImage(slice, title: "t"))
        let masked = Self.fills(sliceImage(slice, mask: mask, title: "t"))
        let molecule = (8..<12).map { 10 * 20 + $0 }  // squares in row order
        // Over the whole slice the 1st and 99th percentiles are both 0: one grey for everything.
        #expect(Set(molecule.map { plain[$0] }).count == 1)
        #expect(molecule.map { masked[$0] } == ["rgb(0,0,0)", "rgb(127,127,127)", "rgb(255,255,255)",
                                                "rgb(255,255,255)"])
    }

    @Test("histogram: one bar per non-empty bin with its count, labelled axes, non-finite values counted")
    func histogram() {
        let svg = SVGPlot.histogram([0, 0, 1, 1, 1, 2, .nan], bins: 2, title: "B", xLabel: "B (Å²)")
        let counts = svg.components(separatedBy: "<title>").dropFirst().map { Int($0.prefix { $0 != "<" })! }
        #expect(counts == [2, 4])
        #expect(svg.contains(">B (1 non-finite left out)</text>"))
        #expect(svg.contains(">B (Å²)</text>") && svg.contains(">voxels</text>"))
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>"))
        let ranged = SVGPlot.histogram([-5, 0.5, 1.5, 9], bins: 2, range: 0...2, title: "r", xLabel: "x")
        #expect(ranged.components(separatedBy: "<title>").dropFirst().map { Int($0.prefix { $0 != "<" })! } == [1, 1])
        #expect(SVGPlot.histogram([], title: "e", xLabel: "x").contains(">no data</text>"))
    }
}
