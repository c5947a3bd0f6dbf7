import Foundation
import Testing
@testable import LocScaleCore

/// The header statistics from per-plane sums (`PlaneSums`), which any split of the planes reproduces.
@Suite("plane sums of the MRC header statistics")
struct PlaneSumsTests {
    /// 3 planes of 5 × 3 (15 floats: one block of 8 lanes and a tail of 7), extremes in the tails.
    static let values: [Float] = (0..<45).map { Float(($0 * 37) % 23) - 11.5 }

    @Test("each plane's sum, min and max; the statistics from them, with the mean's deviations")
    func sumsOfPlanes() {
        var values = Self.values
        values[14] = -100        // plane 0's tail
        values[44] = 250         // plane 2's tail
        let (sums, lo, hi) = values.withUnsafeBufferPointer { PlaneSums.sums($0, planeSize: 15) }
        let planes = (0..<3).map { Array(values[15 * $0 ..< 15 * ($0 + 1)]) }
        // Small integers and halves: every order of adding gives the exact sums.
        #expect(sums == planes.map { $0.reduce(0) { $0 + Double($1) } })
        #expect(lo == -100 && hi == 250)
        let mean = sums.reduce(0, +) / 45
        let squares = values.withUnsafeBufferPointer { PlaneSums.squaredDeviations($0, planeSize: 15, mean: mean) }
        let expected = planes.map { $0.reduce(0) { $0 + (Double($1) - mean) * (Double($1) - mean) } }
        #expect(zip(squares, expected).allSatisfy { abs($0 - $1) <= 1e-12 * $1 })
        let statistics = MapStatistics(planes: values, planeSize: 15)
        #expect(statistics == MapStatistics(minimum: -100, maximum: 250, planeSums: sums, squaredDeviations: squares,
                                            voxelCount: 45))
        #expect(statistics.mean == mean)
    }

    @Test("the statistics of any split into slabs, combined plane by plane, are the whole map's")
    func slabsGiveTheWholeMap() {
        let values = (0..<(7 * 9 * 11)).map { Float(sin(Double($0) * 0.37)) * 1e3 }
        let whole = MapStatistics(planes: values, planeSize: 7 * 9)
        for cut in [0, 1, 5, 11] {
            let slabs = [Array(values[..<(cut * 63)]), Array(values[(cut * 63)...])]
            let parts = slabs.map { slab in slab.withUnsafeBufferPointer { PlaneSums.sums($0, planeSize: 63) } }
            let sums = parts.flatMap(\.sums)
            let mean = sums.reduce(0, +) / Double(values.count)
            let squares = slabs.flatMap { slab in
                slab.withUnsafeBufferPointer { PlaneSums.squaredDeviations($0, planeSize: 63, mean: mean) }
            }
            let combined = MapStatistics(minimum: parts.map(\.minimum).min()!, maximum: parts.map(\.maximum).max()!,
                                         planeSums: sums, squaredDeviations: squares, voxelCount: values.count)
            #expect(combined == whole, "cut at plane \(cut)")
        }
    }
}
