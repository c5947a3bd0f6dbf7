import Foundation
import Testing
import TestSupport
@testable import LocScaleCore

/// `--method fast` (FASTMODE.md): the synthesis against exact mode with exact gains injected,
/// the sliding-DFT powers of the lowest shells, and the filter bank's power estimates on a
/// stationary random field.
@Suite("Fast mode")
struct FastModeTests {
    /// A deterministic map: white noise smoothed by `[1, s, 1]` along each axis (a stationary
    /// field whose spectrum falls with frequency), plus `offset`.
    static func field(_ shape: XYZ<Int>, seed: UInt64, smoothing s: Float, offset: Float = 0) -> [Float] {
        var generator = SplitMix64(seed: seed)
        let count = shape.x * shape.y * shape.z
        var values = (0..<count).map { _ in Float.random(in: -1...1, using: &generator) }
        let strides = [1, shape.x, shape.x * shape.y], lengths = [shape.x, shape.y, shape.z]
        for axis in 0..<3 {
            var next = values
            for i in 0..<count {
                let c = (i / strides[axis]) % lengths[axis]
                let below = c > 0 ? values[i - strides[axis]] : 0
                let above = c + 1 < lengths[axis] ? values[i + strides[axis]] : 0
                next[i] = (below + s * values[i] + above) / (s + 2)
            }
            values = next
        }
        return values.map { $0 + offset }
    }

    /// Inputs on a non-cubic box with an origin; the mask is a box `margin` voxels in from the
    /// edges, or a ball touching the box edge when `ball`.
    static func inputs(_ shape: XYZ<Int>, window: Int, margin: Int, ball: Bool = false) throws -> ScalingInputs {
        let grid = Grid(shape: shape, voxelSize: XYZ(1.1, 1.1, 1.1), origin: XYZ(-7.7, 3.3, 11),
                        start: XYZ(3, -2, 5))
        var mask = [Float](repeating: 0, count: shape.x * shape.y * shape.z)
        for i in mask.indices {
            let c = XYZ(i % shape.x, (i / shape.x) % shape.y, i / (shape.x * shape.y))
            if ball {
                let d = (0..<3).map { Double(c[$0]) - Double(shape[$0]) / 2 }
                mask[i] = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).squareRoot() < Double(shape.x) * 0.45 ? 1 : 0
            } else {
                mask[i] = (0..<3).allSatisfy { c[$0] >= margin && c[$0] < shape[$0] - margin } ? 1 : 0
            }
        }
        let e = field(shape, seed: 1, smoothing: 1, offset: 0.3), m = field(shape, seed: 2, smoothing: 0.5, offset: 0.1)
        return try ScalingInputs(experimental: NamedVolume(path: "E", volume: Volume(grid: grid, values: e)),
                                 model: NamedVolume(path: "M", volume: Volume(grid: grid, values: m)),
                                 mask: NamedVolume(path: "K", volume: Volume(grid: grid, values: mask)), window: window)
    }

    /// Exact mode's shell powers of voxel `i`'s cube of `map` (cut as exact mode cuts it, with
    /// `outside` beyond the box), by a direct FFT of the padded cube.
    final class ExactPowers {
        let layout: SpectrumLayout
        let plan: RealToComplexPlan3D
        let box: AlignedBuffer<Float>, spectrum: AlignedBuffer<Float>

        init(layout: SpectrumLayout) {
            self.layout = layout
            let p = layout.padded
            plan = RealToComplexPlan3D(nz: p, ny: p, nx: p, planning: .estimate)
            box = AlignedBuffer(count: p * p * p)
            spectrum = AlignedBuffer(count: 2 * layout.coefficientCount)
        }

        func powers(_ map: [Float], shape: XYZ<Int>, outside: Float, voxel i: Int) -> [Double] {
            let p = layout.padded, w = layout.window, half = p / 2 + 1
            let c = XYZ(i % shape.x, (i / shape.x) % shape.y, i / (shape.x * shape.y))
            box.buffer.update(repeating: 0)
            for z in 0..<w {
                for y in 0..<w {
                    for x in 0..<w {
                        let b = XYZ(c.x - layout.centre + x, c.y - layout.centre + y, c.z - layout.centre + z)
                        let inside = (0..<3).allSatisfy { b[$0] >= 0 && b[$0] < shape[$0] }
                        box.pointer[(z * p + y) * p + x] = inside ? map[(b.z * shape.y + b.y) * shape.x + b.x] : outside
                    }
                }
            }
            plan.execute(box, spectrum)
            var result = [Double](repeating: 0, count: layout.binCount)
            for j in 0..<layout.coefficientCount {
                let re = Double(spectrum.pointer[2 * j]), im = Double(spectrum.pointer[2 * j + 1])
                result[Int(layout.shell[j])] += Double(layout.columnWeight[j % half]) * (re * re + im * im)
            }
            return result
        }
    }

    @Test("with exact gains injected, the fast synthesis is the exact output",
          arguments: [(7, 1.0), (8, 1.0), (7, 2.0), (8, 2.0)])
    func synthesisWithExactGains(window: Int, padFactor: Double) throws {
        let shape = XYZ(22, 19, 25)
        let inputs = try Self.inputs(shape, window: window, margin: 0, ball: true)
        let voxels = LocalScaling.voxelsToScale(inputs, window: window, rule: .exact(padFactor: padFactor))
        let layout = SpectrumLayout(window: window, rule: .exact(padFactor: padFactor))
        let exact = ExactPowers(layout: layout)
        let em = inputs.experimental.volume, model = inputs.model.volume
        let (outE, outM) = (inputs.meanOutsideMask(em), inputs.meanOutsideMask(model))
        var gains = [[Float]](repeating: [Float](repeating: 0, count: voxels.count), count: layout.binCount)
        for (n, i) in voxels.enumerated() {
            let pe = exact.powers(em.values, shape: shape, outside: outE, voxel: i)
            let pm = exact.powers(model.values, shape: shape, outside: outM, voxel: i)
            for s in 0..<layout.binCount { gains[s][n] = pe[s] > 0 ? Float((pm[s] / pe[s]).squareRoot()) : 0 }
        }
        let injected = gains
        let fast = try FastScaling.run(inputs, voxels: voxels, window: window, padFactor: padFactor, threads: 2,
                                       diagnostics: FastDiagnostics(gains: { injected[$0] }))
        let reference = LocalScaling.run(inputs, voxels: voxels, layout: layout, threads: 2, planning: .estimate)
        let error = relativeRMS(fast.values, reference.values)
        #expect(voxels.count > 1500)
        #expect(error < 2e-6, "relative RMS \(error) over \(voxels.count) voxels")
        #expect(fast.grid == reference.grid)
    }

    @Test("sliding DFTs give the exact powers of shells 0 and 1", arguments: [7, 8])
    func lowShellsAreExact(window: Int) throws {
        let shape = XYZ(24, 21, 26)
        let inputs = try Self.inputs(shape, window: window, margin: 3)
        let voxels = LocalScaling.voxelsToScale(inputs, window: window, rule: .exact(padFactor: 2))
        let layout = SpectrumLayout(window: window, rule: .exact(padFactor: 2))
        let exact = ExactPowers(layout: layout)
        let em = inputs.experimental.volume
        let outside = inputs.meanOutsideMask(em)
        let observed = PowerLog()
        _ = try FastScaling.run(inputs, voxels: voxels, window: window, padFactor: 2, exactShells: 1, threads: 1,
                                diagnostics: FastDiagnostics(powers: { shell, experimental, _ in observed.add(shell, experimental) }))
        var worst = 0.0
        for (n, i) in voxels.enumerated() where n % 7 == 0 {
            let pe = exact.powers(em.values, shape: shape, outside: outside, voxel: i)
            for s in 0...1 { worst = max(worst, abs(observed.powers[s]![n] / pe[s] - 1)) }
        }
        #expect(worst < 1e-4, "largest relative error of the sliding-DFT powers: \(worst)")
    }

    @Test("on a stationary random field the estimated shell powers are unbiased", arguments: [1.0, 2.0])
    func stationaryField(padFactor: Double) throws {
        let window = 8, shape = XYZ(72, 64, 76)
        let inputs = try Self.inputs(shape, window: window, margin: 10)
        let voxels = LocalScaling.voxelsToScale(inputs, window: window, rule: .exact(padFactor: padFactor))
        let layout = SpectrumLayout(window: window, rule: .exact(padFactor: padFactor))
        let exact = ExactPowers(layout: layout)
        let em = inputs.experimental.volume
        let observed = PowerLog()
        _ = try FastScaling.run(inputs, voxels: voxels, window: window, padFactor: padFactor, exactShells: -1, threads: 2,
                                diagnostics: FastDiagnostics(powers: { shell, experimental, _ in observed.add(shell, experimental) }))
        var fastSum = [Double](repeating: 0, count: layout.binCount), exactSum = fastSum
        for (n, i) in voxels.enumerated() where n % 5 == 0 {
            let pe = exact.powers(em.values, shape: shape, outside: 0, voxel: i)
            for s in 0..<layout.binCount {
                exactSum[s] += pe[s]
                fastSum[s] += observed.powers[s]![n]
            }
        }
        let logRatios = (0..<layout.binCount).map { log(fastSum[$0] / exactSum[$0]) }
        // Shell 0 is one coefficient per cube (the cube's sum): its estimate only averages out
        // over many independent cubes, so it gets a wider tolerance; shells 0 and 1 are measured
        // exactly by default (`--fast-exact-shells 1`).
        #expect(abs(logRatios[0]) < 0.1, "shell 0: \(logRatios[0])")
        for s in 1..<layout.binCount {
            #expect(abs(logRatios[s]) < 0.02, "shell \(s): mean log ratio fast/exact \(logRatios[s])")
        }
    }

    @Test("the voxel rows (a bit per grid voxel) give back the voxel list in order, row by row")
    func voxelRows() {
        let rowCount = 5 * 7, width = 130
        var generator = SplitMix64(seed: 12)
        let indices = (0 ..< rowCount * width).filter { i in
            i % width == 0 || i % width == 63 || i % width == 64 || i % width == width - 1
                || Float.random(in: 0..<1, using: &generator) < 0.3
        }
        let rows = VoxelRows(gridIndices: indices, rowCount: rowCount, width: width)
        #expect(rows.count == indices.count)
        var seen: [Int] = []
        rows.forEach { n, i in
            #expect(n == seen.count)
            seen.append(i)
        }
        #expect(seen == indices)
        for r in 0..<rowCount {
            #expect(rows.first[r + 1] - rows.first[r] == indices.filter { $0 / width == r }.count)
        }
        let empty = VoxelRows(gridIndices: [Int](), rowCount: 3, width: 8)
        #expect(empty.count == 0 && empty.first == [0, 0, 0, 0])
    }

    @Test("the column parts of the grid transforms tile each rank's columns in order")
    func columnParts() {
        for (columns, parts) in [(0 ..< 100, 32), (37 ..< 40, 32), (5 ..< 5, 4), (10 ..< 74, 1)] {
            let all = (0..<parts).map { PlaneColumnFFT.part($0, of: parts, columns) }
            #expect(all.flatMap { Array($0) } == Array(columns))
            #expect(all.allSatisfy { $0.count <= (columns.count + parts - 1) / parts })
        }
    }
}

/// Powers reported by a fast run, per shell (thread-safe: reported from the calling thread).
final class PowerLog: @unchecked Sendable {
    private(set) var powers: [Int: [Double]] = [:]
    private let lock = NSLock()
    func add(_ shell: Int, _ experimental: [Double]) { lock.withLock { powers[shell] = experimental } }
}
