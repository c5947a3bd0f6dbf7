import Foundation
import Synchronization
import Testing
import TestSupport
@testable import LocScaleCore

/// The local B map (`LocalBFactorMap`) against the float64 numpy oracle of its definition
/// (Tests/Fixtures/make-bfactor-oracle.py: non-cubic maps with origin and nstart, with and without
/// noise, a stride lattice), its invariance to threads and slabs, its failure rules, the noise
/// estimator (`LocalBFactorNoise`), and the kernel seam leaving the scaled values alone.
@Suite("Local B factors")
struct LocalBFactorTests {
    struct OracleCase: Decodable, CustomStringConvertible, Sendable {
        let em: String
        let model: String
        let mask: String
        let window: Int
        let noiseVariance: Double?
        let guinierFrom: Double
        let guinierTo: Double?
        let stride: Int
        let voxels: [Int]
        let bfactors: [Double]

        private enum CodingKeys: String, CodingKey {
            case em, model, mask, window, stride, voxels, bfactors
            case noiseVariance = "noise_variance", guinierFrom = "guinier_from", guinierTo = "guinier_to"
        }

        var range: GuinierRange { GuinierRange(from: guinierFrom, to: guinierTo) }
        var description: String { "\(em) w\(window) noise \(noiseVariance.map { "\($0)" } ?? "none") stride \(stride)" }

        static func all() throws -> [OracleCase] {
            struct File: Decodable { let cases: [OracleCase] }
            let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("bfactor_cases.json")))
            return try JSONDecoder().decode(File.self, from: data).cases
        }
    }

    /// The inputs of a fixture case, checked for `window`.
    static func inputs(_ em: String = "em.mrc", _ model: String = "model.mrc", _ mask: String = "mask.mrc",
                       window: Int) throws -> ScalingInputs {
        try ScalingInputs(experimental: try Fixtures.read(em), model: try Fixtures.read(model),
                          mask: try Fixtures.read(mask), window: window)
    }

    /// `body` with the whole experimental map of `inputs` as a source (model: the same map).
    static func withSource<T>(_ inputs: ScalingInputs, _ body: (WindowSource) -> T) -> T {
        let em = inputs.experimental.volume
        return em.values.withUnsafeBufferPointer { e in
            let outside = inputs.meanOutsideMask(em)
            return body(WindowSource(experimental: e, model: e, shape: em.grid.shape, experimentalOutside: outside,
                                     modelOutside: outside))
        }
    }

    @Test("B matches the numpy oracle to 1e-3 Å² (or 1e-5 relative), failed fits included",
          arguments: try OracleCase.all())
    func matchesOracle(_ oracle: OracleCase) throws {
        let inputs = try Self.inputs(oracle.em, oracle.model, oracle.mask, window: oracle.window)
        let map = LocalBFactorMap(window: oracle.window, voxelSize: inputs.experimental.volume.grid.meanVoxelSize,
                                  range: oracle.range, noiseVariance: oracle.noiseVariance, stride: oracle.stride,
                                  planning: .estimate)
        let result = Self.withSource(inputs) { map.compute($0, voxels: oracle.voxels, threads: 2) }
        #expect(result.bfactors.count == oracle.bfactors.count)
        #expect(result.failedFits == oracle.bfactors.filter { $0 == 0 }.count)
        for (ours, expected) in zip(result.bfactors, oracle.bfactors) {
            #expect(abs(Double(ours) - expected) <= max(1e-3, 1e-5 * abs(expected)), "B \(ours), oracle \(expected)")
        }
    }

    @Test("the same bits for 1 and 3 threads and on a slab holding only the planes it needs", arguments: [1, 2, 3])
    func threadAndSlabInvariance(stride: Int) throws {
        let window = 8
        let inputs = try Self.inputs(window: window)
        let em = inputs.experimental.volume, shape = em.grid.shape
        let map = LocalBFactorMap(window: window, voxelSize: 1.2, noiseVariance: 1e-6, stride: stride,
                                  planning: .estimate)
        let voxels = LocalScaling.voxelsToScale(inputs, window: window, rule: .exact(padFactor: 1))
        let whole = Self.withSource(inputs) { map.compute($0, voxels: voxels, threads: 1) }
        #expect(Self.withSource(inputs) { map.compute($0, voxels: voxels, threads: 3) } == whole)
        #expect(whole.failedFits < voxels.count / 2)
        // Slab z 7 ..< 13 with the halo w/2 + stride/2 on each side: the voxels of those planes.
        let planes = 7..<13, halo = window / 2 + stride / 2
        let held = max(0, planes.lowerBound - halo) ..< min(shape.z, planes.upperBound + halo)
        let plane = shape.x * shape.y
        let slabValues = Array(em.values[held.lowerBound * plane ..< held.upperBound * plane])
        let inSlab = voxels.indices.filter { planes.contains(voxels[$0] / plane) }
        let slab = slabValues.withUnsafeBufferPointer { e in
            let outside = inputs.meanOutsideMask(em)
            let source = WindowSource(experimental: e, model: e, shape: shape, firstPlane: held.lowerBound,
                                      experimentalOutside: outside, modelOutside: outside)
            return map.compute(source, voxels: inSlab.map { voxels[$0] }, threads: 2)
        }
        #expect(slab.bfactors.map(\.bitPattern) == inSlab.map { whole.bfactors[$0].bitPattern })
    }

    @Test("heldPlanes: exactly the planes the windows of the voxels' lattice voxels reach, near the top edge too",
          arguments: [1, 2, 3, 4, 5])
    func heldPlanesAreTheWindowsPlanes(stride: Int) {
        for (window, depth) in [(8, 20), (9, 17), (4, 12), (26, 64)] {
            let map = LocalBFactorMap(window: window, voxelSize: 1, noiseVariance: nil, stride: stride,
                                      planning: .estimate)
            let shape = XYZ(1, 1, depth)
            for first in 0..<depth {
                for last in first..<depth {
                    // Planes of the cubes of the lattice voxels of the voxels in first...last (one per plane).
                    let reached = (first...last).flatMap { z -> [Int] in
                        let c = map.latticeVoxel(z, shape: shape)
                        return Array(c - window / 2 ..< c - window / 2 + window).filter { (0..<depth).contains($0) }
                    }
                    let expected = reached.min()! ..< reached.max()! + 1
                    #expect(map.heldPlanes(for: first ..< last + 1, depth: depth) == expected,
                            "w \(window), depth \(depth), stride \(stride), planes \(first)...\(last)")
                }
            }
            #expect(map.heldPlanes(for: 5..<5, depth: depth).isEmpty)
        }
    }

    @Test("stride 2: each voxel takes its nearest lattice voxel's B, halves up, within the box")
    func lattice() {
        let map = LocalBFactorMap(window: 4, voxelSize: 1, noiseVariance: nil, stride: 2, planning: .estimate)
        let shape = XYZ(5, 4, 3)
        func index(_ x: Int, _ y: Int, _ z: Int) -> Int { (z * shape.y + y) * shape.x + x }
        #expect(map.latticeVoxel(index(0, 0, 0), shape: shape) == index(0, 0, 0))
        #expect(map.latticeVoxel(index(1, 1, 1), shape: shape) == index(2, 2, 2))
        #expect(map.latticeVoxel(index(4, 3, 2), shape: shape) == index(4, 2, 2))
        #expect(map.latticeVoxel(index(3, 2, 0), shape: shape) == index(4, 2, 0))
    }

    @Test("fewer than 3 shells, or a constant window (no power), gives B = 0, counted; never NaN")
    func failedFits() throws {
        let window = 10
        let inputs = try Self.inputs(window: window)
        let voxels = Array(LocalScaling.voxelsToScale(inputs, window: window, rule: .exact(padFactor: 1)).prefix(50))
        // 10 Å to 6 Å at 1.2 Å per voxel, w = 10: f = s/12 Å⁻¹ with 1.2 ≤ s ≤ 2, i.e. only shell 2.
        let narrow = LocalBFactorMap(window: window, voxelSize: 1.2, range: GuinierRange(from: 10, to: 6),
                                     noiseVariance: nil, planning: .estimate)
        #expect(narrow.fitShells == [2])
        let result = Self.withSource(inputs) { narrow.compute($0, voxels: voxels, threads: 1) }
        #expect(result.bfactors == [Float](repeating: 0, count: voxels.count))
        #expect(result.failedFits == voxels.count)

        let n = 24, shape = XYZ(n, n, n)
        // Constant in x < 12 (the windows of voxels at x ≤ 2 see only that), a busy pattern elsewhere.
        let em = (0..<n * n * n).map { i -> Float in
            let t = Double(i)
            return i % n < 12 ? 3 : Float(sin(0.7 * t) + 0.3 * cos(1.9 * t))
        }
        let map = LocalBFactorMap(window: 8, voxelSize: 1, noiseVariance: nil, planning: .estimate)
        let b = em.withUnsafeBufferPointer { e in
            map.compute(WindowSource(experimental: e, model: e, shape: shape, experimentalOutside: 3, modelOutside: 3),
                        voxels: [(12 * n + 12) * n + 2, (12 * n + 12) * n + 20], threads: 1)
        }
        #expect(b.bfactors[0] == 0 && b.failedFits == 1)
        #expect(b.bfactors[1] != 0 && b.bfactors[1].isFinite)
    }

    @Test("the noise variance: the noise region's, the same from any slab split; nil for a zeroed solvent")
    func noiseVariance() throws {
        let n = 64, shape = XYZ(n, n, n), plane = n * n
        var generator = SplitMix64(seed: 14)
        // Gaussian noise of σ = 0.5 (Box–Muller) and a bright ball in the middle.
        let values = (0..<n * n * n).map { i -> Float in
            let u = Double.random(in: Double.ulpOfOne..<1, using: &generator), v = Double.random(in: 0..<1, using: &generator)
            let x = i % n - n / 2, y = (i / n) % n - n / 2, z = i / plane - n / 2
            let noise = 0.5 * (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
            return Float(noise) + (x * x + y * y + z * z < 100 ? 10 : 0)
        }
        let grid = Grid(shape: shape, voxelSize: XYZ(1, 1, 1))
        let sigma2 = try #require(LocalBFactorNoise.variance(of: Volume(grid: grid, values: values)))
        // 4 · 8³ samples: the variance's relative sampling error is 3 %.
        #expect(abs(sigma2 / 0.25 - 1) < 0.1, "σ² \(sigma2)")
        // Two ranks' per-plane sums, added plane by plane, give the same bits.
        let cubes = try #require(NoiseRegion(shape: shape, window: NoiseRegion.defaultWindow(shape: shape))).cubes
        let split = [0..<33, 33..<n]
        func held(_ planes: Range<Int>) -> [Float] { Array(values[planes.lowerBound * plane ..< planes.upperBound * plane]) }
        func added(_ parts: [[Double]]) -> [Double] { zip(parts[0], parts[1]).map(+) }
        let parts = split.map { cubes.planeSums(held($0), held: $0, shape: shape) }
        let sums = added(parts.map(\.sums)), zeros = added(parts.map(\.zeros))
        let mean = SampleStatistics.mean(sums: sums, count: cubes.voxelCount)
        let squares = added(split.map { cubes.planeSquares(held($0), held: $0, shape: shape, mean: mean) })
        let combined = SampleStatistics(sums: sums, zeros: zeros, squares: squares, count: cubes.voxelCount)
        #expect(LocalBFactorNoise.variance(from: combined)?.bitPattern == sigma2.bitPattern)
        // Masked to zero outside the ball: no noise to subtract.
        let zeroed = values.map { $0 > 5 ? $0 : 0 }
        #expect(LocalBFactorNoise.variance(of: Volume(grid: grid, values: zeroed)) == nil)
    }
}

/// The kernel seams (`ShellSpectrumObserver`, `ShellPowerSweepObserver`, issue 12's extension
/// point): an observer sees every voxel's shells and the scaled values keep their bits.
@Suite("Kernel seam observers")
struct KernelSeamTests {
    /// Records the experimental sum over all bins per voxel (exact) or over all shells (fast).
    final class Recorder: ShellSpectrumObserver, ShellPowerSweepObserver, @unchecked Sendable {
        var totals: [Double]
        let calls = Atomic<Int>(0)
        init(_ count: Int) { totals = [Double](repeating: 0, count: count) }

        func observe(voxel: Int, experimental: UnsafeBufferPointer<Double>, model: UnsafeBufferPointer<Double>) {
            totals[voxel] = experimental.reduce(0, +)
            calls.add(1, ordering: .relaxed)
        }

        func observe(shell: Int, experimental: UnsafeBufferPointer<Double>, model: UnsafeBufferPointer<Double>,
                     voxels: Range<Int>) {
            for n in voxels { totals[n] += experimental[n] }
            calls.add(1, ordering: .relaxed)
        }
    }

    @Test("an exact-mode observer sees every voxel and leaves the values bit for bit",
          arguments: [ScalingRule.exact(padFactor: 2), .locscale2])
    func exactObserver(_ rule: ScalingRule) throws {
        let inputs = try LocalBFactorTests.inputs(window: 8)
        let voxels = LocalScaling.voxelsToScale(inputs, window: 8, rule: rule)
        let layout = SpectrumLayout(window: 8, rule: rule)
        let plain = LocalScaling.run(inputs, voxels: voxels, layout: layout, threads: 2)
        let one = Recorder(voxels.count), three = Recorder(voxels.count)
        let observed = LocalScaling.run(inputs, voxels: voxels, layout: layout, threads: 3, observer: three)
        _ = LocalScaling.run(inputs, voxels: voxels, layout: layout, threads: 1, observer: one)
        #expect(plain.values.map(\.bitPattern) == observed.values.map(\.bitPattern))
        #expect(three.calls.load(ordering: .relaxed) == voxels.count)
        #expect(three.totals.allSatisfy { $0 > 0 && $0.isFinite })
        #expect(one.totals.map(\.bitPattern) == three.totals.map(\.bitPattern))
    }

    @Test("a fast-mode observer sees every shell and leaves the values bit for bit")
    func fastObserver() throws {
        let inputs = try LocalBFactorTests.inputs(window: 8)
        let voxels = LocalScaling.voxelsToScale(inputs, window: 8, rule: .exact(padFactor: 2))
        let recorder = Recorder(voxels.count)
        let plain = try FastScaling.run(inputs, voxels: voxels, window: 8, padFactor: 2, threads: 2)
        let observed = try FastScaling.run(inputs, voxels: voxels, window: 8, padFactor: 2, threads: 1,
                                           observer: recorder)
        #expect(plain.values.map(\.bitPattern) == observed.values.map(\.bitPattern))
        #expect(recorder.calls.load(ordering: .relaxed) > 0)
        #expect(recorder.totals.allSatisfy { $0 > 0 && $0.isFinite })
    }
}
