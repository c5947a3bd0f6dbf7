import Testing
import TestSupport
@testable import LocScaleCore

/// The scaling kernel against the independent float64 numpy oracle (inverse FFT per window),
/// Tests/Fixtures/make_fixtures.py: non-cubic maps, non-zero origin, a mask touching the box edge.
@Suite("Scaling against the numpy oracle")
struct OracleTests {
    @Test("output matches the oracle to 1e-4 relative RMS inside the mask, 0 outside",
          arguments: Fixtures.scalingCases())
    func matchesOracle(_ scalingCase: Fixtures.ScalingCase) throws {
        let em = try Fixtures.read(scalingCase.em)
        let inputs = try ScalingInputs(experimental: em, model: try Fixtures.read(scalingCase.model),
                                       mask: try scalingCase.mask.map(Fixtures.read), window: scalingCase.window)
        let voxels = LocalScaling.voxelsToScale(inputs, window: scalingCase.window, rule: scalingCase.rule)
        #expect(voxels.count == scalingCase.n_scaled)
        let layout = SpectrumLayout(window: scalingCase.window, rule: scalingCase.rule)
        #expect(layout.padded == scalingCase.padded_size)
        let result = LocalScaling.run(inputs, voxels: voxels, layout: layout, threads: 2)
        let expected = try Fixtures.read(scalingCase.expected).volume.values
        let scaled = Set(voxels)
        let error = relativeRMS(result.values, expected) { scaled.contains($0) }
        #expect(error <= 1e-4, "relative RMS \(error)")
        #expect(result.values.indices.allSatisfy { scaled.contains($0) || result.values[$0] == 0 })
        #expect(expected.indices.allSatisfy { scaled.contains($0) || expected[$0] == 0 })
        #expect(result.grid == em.volume.grid)
    }
}
