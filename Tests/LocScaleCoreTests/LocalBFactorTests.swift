import Foundation
import Testing
@testable import LocScaleCore

/// The local B map (`LocalBFactorObserver`) against the float64 numpy oracle of its definition
/// (Tests/Fixtures/make-bfactor-oracle.py: non-cubic maps with origin and nstart, exact pad 1 and 2,
/// locscale2), its failure rules, and the kernel seam leaving the scaled values alone.
@Suite("Local B factors")
struct LocalBFactorTests {
    struct OracleCase: Decodable, CustomStringConvertible, Sendable {
        let em: String
        let model: String
        let mask: String
        let window: Int
        let mode: String
        let padFactor: Double?
        let guinierFrom: Double
        let guinierTo: Double?
        let paddedSize: Int
        let fitFrequencies: [Double]
        let voxels: [Int]
        let bfactors: [Double]

        private enum CodingKeys: String, CodingKey {
            case em, model, mask, window, mode, pad_factor, guinier_from, guinier_to, padded_size
            case fit_frequencies, voxels, bfactors
        }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            em = try c.decode(String.self, forKey: .em)
            model = try c.decode(String.self, forKey: .model)
            mask = try c.decode(String.self, forKey: .mask)
            window = try c.decode(Int.self, forKey: .window)
            mode = try c.decode(String.self, forKey: .mode)
            padFactor = try? c.decode(Double.self, forKey: .pad_factor)  // "compat" for locscale2
            guinierFrom = try c.decode(Double.self, forKey: .guinier_from)
            guinierTo = try c.decodeIfPresent(Double.self, forKey: .guinier_to)
            paddedSize = try c.decode(Int.self, forKey: .padded_size)
            fitFrequencies = try c.decode([Double].self, forKey: .fit_frequencies)
            voxels = try c.decode([Int].self, forKey: .voxels)
            bfactors = try c.decode([Double].self, forKey: .bfactors)
        }

        var rule: ScalingRule { mode == "compat" ? .locscale2 : .exact(padFactor: padFactor!) }
        var range: GuinierRange { GuinierRange(from: guinierFrom, to: guinierTo) }
        var description: String { "\(em) w\(window) \(mode) \(padFactor.map { "pad \($0)" } ?? "")" }

        static func all() throws -> [OracleCase] {
            struct File: Decodable { let cases: [OracleCase] }
            let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("bfactor_cases.json")))
            return try JSONDecoder().decode(File.self, from: data).cases
        }

        func inputs() throws -> ScalingInputs {
            try ScalingInputs(experimental: try Fixtures.read(em), model: try Fixtures.read(model),
                              mask: try Fixtures.read(mask), window: window)
        }
    }

    @Test("B matches the numpy oracle to 1e-3 Å² (or 1e-5 relative)", arguments: try OracleCase.all())
    func matchesOracle(_ oracle: OracleCase) throws {
        let inputs = try oracle.inputs()
        let layout = SpectrumLayout(window: oracle.window, rule: oracle.rule)
        #expect(layout.padded == oracle.paddedSize)
        let voxelSize = inputs.experimental.volume.grid.meanVoxelSize
        let observer = LocalBFactorObserver(layout: layout, voxelSize: voxelSize, voxelCount: oracle.voxels.count,
                                            range: oracle.range)
        // The same shells (frequencies equal up to the header's float32 voxel size).
        let frequencies = observer.fitBins.map { Double($0) / Double(layout.padded) / voxelSize }
        #expect(frequencies.count == oracle.fitFrequencies.count)
        #expect(zip(frequencies, oracle.fitFrequencies).allSatisfy { abs($0 / $1 - 1) < 1e-7 })
        _ = LocalScaling.run(inputs, voxels: oracle.voxels, layout: layout, threads: 2, observer: observer)
        let b = observer.bfactors
        #expect(observer.failedFits == 0)
        #expect(b.count == oracle.bfactors.count)
        for (ours, expected) in zip(b, oracle.bfactors) {
            #expect(abs(Double(ours) - expected) <= max(1e-3, 1e-5 * abs(expected)), "B \(ours), oracle \(expected)")
        }
    }

    @Test("the observer leaves the scaled values bit for bit", arguments: [ScalingRule.exact(padFactor: 2), .locscale2])
    func observerKeepsValues(_ rule: ScalingRule) throws {
        let inputs = try ScalingInputs(experimental: try Fixtures.read("em.mrc"), model: try Fixtures.read("model.mrc"),
                                       mask: try Fixtures.read("mask.mrc"), window: 8)
        let voxels = LocalScaling.voxelsToScale(inputs, window: 8, rule: rule)
        let layout = SpectrumLayout(window: 8, rule: rule)
        let observer = LocalBFactorObserver(layout: layout, voxelSize: 1.2, voxelCount: voxels.count)
        let plain = LocalScaling.run(inputs, voxels: voxels, layout: layout, threads: 2)
        let observed = LocalScaling.run(inputs, voxels: voxels, layout: layout, threads: 2, observer: observer)
        #expect(plain.values.map(\.bitPattern) == observed.values.map(\.bitPattern))
        #expect(observer.bfactors.allSatisfy { $0 != 0 && $0.isFinite })
    }

    @Test("the B map is the same bits for any thread count, exact and fast mode; fast values keep their bits")
    func threadInvariance() throws {
        let inputs = try ScalingInputs(experimental: try Fixtures.read("em.mrc"), model: try Fixtures.read("model.mrc"),
                                       mask: try Fixtures.read("mask.mrc"), window: 8)
        let layout = SpectrumLayout(window: 8, rule: .exact(padFactor: 2))
        let voxels = LocalScaling.voxelsToScale(inputs, window: 8, rule: layout.rule)
        func exact(threads: Int) -> [UInt32] {
            let observer = LocalBFactorObserver(layout: layout, voxelSize: 1.2, voxelCount: voxels.count)
            _ = LocalScaling.run(inputs, voxels: voxels, layout: layout, threads: threads, observer: observer)
            return observer.bfactors.map(\.bitPattern)
        }
        func fast(threads: Int) throws -> (b: [UInt32], values: [UInt32]) {
            let observer = LocalBFactorObserver(layout: layout, voxelSize: 1.2, voxelCount: voxels.count)
            let values = try FastScaling.run(inputs, voxels: voxels, window: 8, padFactor: 2, threads: threads,
                                             observer: observer)
            return (observer.bfactors.map(\.bitPattern), values.values.map(\.bitPattern))
        }
        #expect(exact(threads: 1) == exact(threads: 3))
        let one = try fast(threads: 1), two = try fast(threads: 2)
        #expect(one.b == two.b)
        #expect(one.b.allSatisfy { Float(bitPattern: $0) != 0 && Float(bitPattern: $0).isFinite })
        let plain = try FastScaling.run(inputs, voxels: voxels, window: 8, padFactor: 2, threads: 2)
        #expect(plain.values.map(\.bitPattern) == two.values)
    }

    @Test("fewer than 3 shells in the range: every B is 0 and counted")
    func tooFewShells() throws {
        let inputs = try ScalingInputs(experimental: try Fixtures.read("em.mrc"), model: try Fixtures.read("model.mrc"),
                                       mask: try Fixtures.read("mask.mrc"), window: 10)
        let layout = SpectrumLayout(window: 10, rule: .exact(padFactor: 1))
        let voxels = Array(LocalScaling.voxelsToScale(inputs, window: 10, rule: layout.rule).prefix(50))
        // 10 Å to 6 Å at 1.2 Å per voxel, P = 10: shells s with 1.2 ≤ s ≤ 2, i.e. only shell 2.
        let observer = LocalBFactorObserver(layout: layout, voxelSize: 1.2, voxelCount: voxels.count,
                                            range: GuinierRange(from: 10, to: 6))
        #expect(observer.fitBins == [2])
        _ = LocalScaling.run(inputs, voxels: voxels, layout: layout, threads: 1, observer: observer)
        #expect(observer.bfactors == [Float](repeating: 0, count: voxels.count))
        #expect(observer.failedFits == voxels.count)
    }

    @Test("a window of zeros (zero shell power) gives B = 0, counted; others are fitted",
          arguments: [ScalingRule.exact(padFactor: 1), .locscale2])
    func zeroPower(_ rule: ScalingRule) {
        let n = 24
        let shape = XYZ(n, n, n)
        // Zeros in x < 12 (the windows of voxels at x ≤ 2 see only zeros), a busy pattern elsewhere.
        func pattern(_ i: Int) -> Float {
            let t = Double(i)
            return i % n < 12 ? 0 : Float(sin(0.7 * t) + 0.3 * cos(1.9 * t))
        }
        let em = (0..<n * n * n).map(pattern)
        let layout = SpectrumLayout(window: 8, rule: rule)
        let voxels = [(12 * n + 12) * n + 2, (12 * n + 12) * n + 20]
        let observer = LocalBFactorObserver(layout: layout, voxelSize: 1, voxelCount: 2)
        em.withUnsafeBufferPointer { e in
            let source = WindowSource(experimental: e, model: e, shape: shape, experimentalOutside: 0, modelOutside: 0)
            _ = LocalScaling.scale(source, voxels: voxels, layout: layout, fft: CubeFFT(padded: layout.padded, filled: 8),
                                   threads: 1, observer: observer)
        }
        #expect(observer.bfactors[0] == 0)
        #expect(observer.bfactors[1] != 0 && observer.bfactors[1].isFinite)
        #expect(observer.failedFits == 1)
    }
}
