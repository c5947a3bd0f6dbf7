import Foundation
import Testing
import TestSupport
@testable import LocScaleCore

/// The one-pass read-out of the central voxel against the explicit path: FFT, per-coefficient
/// gains, full inverse FFT, value at the centre — on random windows, both rules.
@Suite("One-pass synthesis")
struct SynthesisTests {
    /// Explicit scaling of the padded cubes the scaler itself builds, with a plain 3-D FFT:
    /// returns the inverse-FFT value at the centre voxel's place in the padded box.
    private func inverseFFTValue(layout: SpectrumLayout, cubeE: [Float], cubeM: [Float]) -> Float {
        let p = layout.padded, half = p / 2 + 1
        let forward = RealToComplexPlan3D(nz: p, ny: p, nx: p, planning: .estimate)
        let inverse = ComplexToRealPlan3D(nz: p, ny: p, nx: p)
        let inE = AlignedBuffer<Float>(count: p * p * p), inM = AlignedBuffer<Float>(count: p * p * p)
        let fE = AlignedBuffer<Float>(count: 2 * layout.coefficientCount)
        let fM = AlignedBuffer<Float>(count: 2 * layout.coefficientCount)
        _ = inE.buffer.update(from: cubeE)
        _ = inM.buffer.update(from: cubeM)
        forward.execute(inE, fE)
        forward.execute(inM, fM)

        // Per-coefficient gain in Double, from the definitions (not from the scaler's tables).
        var gainOf = [Double](repeating: 0, count: layout.coefficientCount)
        func wrapped(_ k: Int) -> Double { Double(k <= p / 2 ? k : k - p) }
        switch layout.rule {
        case .exact:
            let shells = Int((3.0.squareRoot() * Double(p) / 2).rounded()) + 1
            var pe = [Double](repeating: 0, count: shells), pm = pe
            var shellOf = [Int](repeating: 0, count: layout.coefficientCount)
            for kz in 0..<p { for ky in 0..<p { for kx in 0..<half {
                let j = (kz * p + ky) * half + kx
                let s = Int((wrapped(kz) * wrapped(kz) + wrapped(ky) * wrapped(ky) + Double(kx * kx)).squareRoot().rounded())
                let w = (kx == 0 || (p % 2 == 0 && kx == p / 2)) ? 1.0 : 2.0
                shellOf[j] = s
                pe[s] += w * Double(fE.pointer[2 * j] * fE.pointer[2 * j] + fE.pointer[2 * j + 1] * fE.pointer[2 * j + 1])
                pm[s] += w * Double(fM.pointer[2 * j] * fM.pointer[2 * j] + fM.pointer[2 * j + 1] * fM.pointer[2 * j + 1])
            } } }
            for j in 0..<layout.coefficientCount {
                gainOf[j] = pe[shellOf[j]] > 0 ? (pm[shellOf[j]] / pe[shellOf[j]]).squareRoot() : 0
            }
        case .locscale2:
            let nodes = p / 2 + 1
            var ae = [Double](repeating: 0, count: nodes + 1), am = ae, count = ae
            for kz in 0..<p { for ky in 0..<p { for kx in 0..<half {
                let j = (kz * p + ky) * half + kx
                let s = min(Int(Double(kz * kz + ky * ky + kx * kx).squareRoot()), nodes)
                ae[s] += Double(hypot(fE.pointer[2 * j], fE.pointer[2 * j + 1]))
                am[s] += Double(hypot(fM.pointer[2 * j], fM.pointer[2 * j + 1]))
                count[s] += 1
            } } }
            let g = (0..<nodes).map { s -> Double in
                let r = (am[s] / count[s]) / (ae[s] / count[s])
                return r.isFinite ? r : 0
            }
            for kz in 0..<p { for ky in 0..<p { for kx in 0..<half {
                let j = (kz * p + ky) * half + kx
                let t = (wrapped(kz) * wrapped(kz) + wrapped(ky) * wrapped(ky) + Double(kx * kx)).squareRoot()
                if t >= Double(nodes - 1) { gainOf[j] = g[nodes - 1]; continue }
                let lower = Int(t), fraction = t - Double(lower)
                gainOf[j] = g[lower] * (1 - fraction) + g[lower + 1] * fraction
            } } }
        }
        for j in 0..<layout.coefficientCount {
            fE.pointer[2 * j] *= Float(gainOf[j])
            fE.pointer[2 * j + 1] *= Float(gainOf[j])
        }
        let out = AlignedBuffer<Float>(count: p * p * p)
        inverse.execute(fE, out)
        let centre = layout.centreInPaddedBox
        return out.pointer[(centre.z * p + centre.y) * p + centre.x] / Float(p * p * p)
    }

    @Test("equals the inverse-FFT path to float precision",
          arguments: [(8, ScalingRule.exact(padFactor: 1)), (8, .exact(padFactor: 2)), (7, .exact(padFactor: 2)),
                      (9, .exact(padFactor: 1.5)), (12, .locscale2), (10, .locscale2)])
    func onePassEqualsInverseFFT(window: Int, rule: ScalingRule) {
        var generator = SplitMix64(seed: UInt64(window) * 7919)
        let shape = XYZ(window + 3, window + 2, window + 1)
        let count = shape.x * shape.y * shape.z
        let em = (0..<count).map { _ in Float.random(in: -1...1, using: &generator) }
        let model = (0..<count).map { _ in Float.random(in: -1...1, using: &generator) }
        let layout = SpectrumLayout(window: window, rule: rule)
        let scaler = WindowScaler(layout: layout, fft: CubeFFT(padded: layout.padded, filled: window))
        em.withUnsafeBufferPointer { e in
            model.withUnsafeBufferPointer { m in
                let source = WindowSource(experimental: e, model: m, shape: shape,
                                          experimentalOutside: 0.25, modelOutside: -0.5)
                // Interior voxels and voxels whose cube leaves the box.
                for (x, y, z) in [(5, 5, 4), (0, 0, 0), (shape.x - 1, 3, shape.z - 1), (2, shape.y - 2, 1)] {
                    let onePass = scaler.scale(x: x, y: y, z: z, from: source)
                    let (cubeE, cubeM) = scaler.paddedCubes(x: x, y: y, z: z, from: source)
                    let explicit = inverseFFTValue(layout: layout, cubeE: cubeE, cubeM: cubeM)
                    let scale = cubeE.map { abs($0) }.max()!
                    #expect(abs(onePass - explicit) <= 2e-6 * scale, "voxel (\(x), \(y), \(z)): \(onePass) vs \(explicit)")
                }
            }
        }
    }
}
