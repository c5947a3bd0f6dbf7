import Foundation
import Testing
import TestSupport
@testable import LocScaleCore

/// The pieces of the FDR confidence map against LocScale 2.4.1's formulas (Beckers'
/// `estimateNoiseFromMap`, `makeCircularMask`, `pAdjust`; `prepare_inputs_for_FDR`).
@Suite("FDR confidence")
struct ConfidenceTests {
    @Test("default window: 10 % of NZ rounded up to even, with LocScale 2's float arithmetic")
    func defaultWindow() {
        // 30 · 0.1 = 3.0000000000000004 in float64: ceil 4.
        for (nz, w) in [(128, 14), (100, 10), (28, 4), (30, 4), (256, 26), (20, 2)] {
            #expect(NoiseRegion.defaultWindow(shape: XYZ(7, 9, nz)) == w, "NZ \(nz)")
        }
    }

    @Test("noise cubes where estimateNoiseFromMap slices them (128³, window 14; non-cubic)")
    func noiseCubes() throws {
        let region = try #require(NoiseRegion(shape: XYZ(128, 128, 128), window: 14))
        #expect(region.planes == 57..<71)
        #expect(region.cubes.cubes.map { [$0.y, $0.x] } == [[2..<16, 57..<71], [111..<125, 57..<71],
                                                               [57..<71, 2..<16], [57..<71, 111..<125]])
        #expect(region.voxelCount == 4 * 14 * 14 * 14)
        #expect(region.corners.cubes.count == 8 && region.corners.cubes.last!.z == 114..<128)
        // x 24, y 20, z 28: z from int(14 − 2), y edges int(0.4) and int(19.6) − 4, x centred int(12 − 2).
        let small = try #require(NoiseRegion(shape: XYZ(24, 20, 28), window: 4))
        #expect(small.planes == 12..<16)
        #expect(small.cubes.cubes.map { [$0.y, $0.x] } == [[0..<4, 10..<14], [15..<19, 10..<14],
                                                              [8..<12, 0..<4], [8..<12, 19..<23]])
        // Cubes may overlap (as in LocScale 2) but not leave the map: int(19.6) − 20 < 0.
        #expect(NoiseRegion(shape: XYZ(24, 20, 28), window: 19) != nil)
        #expect(NoiseRegion(shape: XYZ(24, 20, 28), window: 20) == nil)
        #expect(NoiseRegion.largestWindow(shape: XYZ(24, 20, 28)) == 19)
    }

    @Test("per-plane noise sums give the same statistics, bit for bit, for any split of the planes")
    func planeSumsAnySplit() throws {
        let shape = XYZ(24, 20, 28)
        var random = SplitMix64(seed: 3)
        let values = (0..<shape.x * shape.y * shape.z).map { _ in Float(Double.random(in: 0..<1, using: &random) * 2 - 1) }
        let cubes = try #require(NoiseRegion(shape: shape, window: 6)).cubes
        func statistics(_ cuts: [Int]) -> SampleStatistics {
            var sums = [Double](repeating: 0, count: shape.z), zeros = sums, squares = sums
            let bounds = [0] + cuts + [shape.z]
            let slabs = (0..<bounds.count - 1).map { bounds[$0] ..< bounds[$0 + 1] }
            func slab(_ r: Range<Int>) -> [Float] { Array(values[r.lowerBound * 480 ..< r.upperBound * 480]) }
            for r in slabs {
                let local = cubes.planeSums(slab(r), held: r, shape: shape)
                for z in 0..<shape.z { sums[z] += local.sums[z]; zeros[z] += local.zeros[z] }
            }
            let mean = SampleStatistics.mean(sums: sums, count: cubes.voxelCount)
            for r in slabs {
                let local = cubes.planeSquares(slab(r), held: r, shape: shape, mean: mean)
                for z in 0..<shape.z { squares[z] += local[z] }
            }
            return SampleStatistics(sums: sums, zeros: zeros, squares: squares, count: cubes.voxelCount)
        }
        let whole = statistics([])
        #expect(statistics([13]) == whole && statistics([5, 12, 14, 20]) == whole)
        // Against a direct float64 loop over the sample.
        var sample: [Double] = []
        for cube in cubes.cubes {
            for z in cube.z { for y in cube.y { for x in cube.x { sample.append(Double(values[(z * 20 + y) * 24 + x])) } } }
        }
        let mean = sample.reduce(0, +) / Double(sample.count)
        let variance = sample.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(sample.count)
        #expect(abs(whole.mean - mean) <= 1e-15 && abs(whole.variance - variance) <= 1e-15 * variance)
    }

    @Test("the tested ball counts makeCircularMask's voxels (numpy: 9048 for 28×20×24, 2 for 1×1×3)")
    func ball() {
        func count(_ s: XYZ<Int>) -> Int {
            let ball = ConfidenceBall(shape: s)
            var n = 0
            for z in 0..<s.z { for y in 0..<s.y { for x in 0..<s.x where ball.contains(x: x, y: y, z: z) { n += 1 } } }
            return n
        }
        #expect(count(XYZ(24, 20, 28)) == 9048)
        // linspace(-1, 2, 3) = -1, 0.5, 2 along z; radius 1: −1 and 0.5 are inside, 2 is not.
        #expect(count(XYZ(1, 1, 3)) == 2)
    }

    @Test("radix sort in place, with and without a payload; the harmonic number")
    func radixSortAndHarmonic() {
        var random = SplitMix64(seed: 11)
        var p = (0..<5000).map { _ in pow(Double.random(in: 0..<1, using: &random), 3) }
        p[10] = p[11]   // a tie
        let sorted = p.sorted()
        var inPlace = p, payload = Array(p.indices)
        RadixSort.sort(&inPlace, carrying: &payload)
        #expect(inPlace == sorted && payload.map { p[$0] } == sorted)
        #expect(payload[...].firstIndex(of: 10)! < payload.firstIndex(of: 11)!)    // stable
        var alone = p, none: [Int] = []
        RadixSort.sort(&alone, carrying: &none)
        #expect(alone == sorted && none.isEmpty)
        let series: Double = log(5000.0) + 0.5772 + 0.5 / 5000.0 - 1.0 / 3e8 + 1.0 / 7.5e16
        #expect(FDRConfidence.harmonic(5000) == series)
    }

    @Test("p-values: right-sided, 1 below the mean, 1 − ½(1 + erf(t/√2)) above")
    func pValues() {
        #expect(FDRConfidence.pValue(-3, mean: 0, inverseSD: 1) == 1)
        #expect(FDRConfidence.pValue(0, mean: 0, inverseSD: 1) == 0.5)
        #expect(abs(FDRConfidence.pValue(3, mean: 1, inverseSD: 0.5) - 0.15865525393145707) < 1e-15)
        // Below the floor every p-value is above the bound.
        for bound in [0.001, 0.12, 0.5] {
            let floor = FDRConfidence.candidateFloor(bound: bound)
            #expect(FDRConfidence.pValue(t: floor + 0.4) >= bound && FDRConfidence.pValue(t: floor + 0.6) < bound)
        }
    }
}
