// Kernel benchmark: core-microseconds per scaled voxel on one thread, against the cost of the two
// r2c FFTs of the same padded size measured in the same run (the "FFT floor"), and what the local B
// map adds (issue 14: ≤ 10 %): `LocalBFactorMap` on the same voxels, one thread, stride 1 (every
// voxel; its cost does not depend on the rule or the padding).
//
//   swift run -c release localscale-kernel-bench [window] [pad factors…] [voxels]
//   swift run -c release localscale-kernel-bench 24 1 2 locscale2 3000
import Foundation
import LocScaleCore

let arguments = Array(CommandLine.arguments.dropFirst())
let window = arguments.first.flatMap(Int.init) ?? 24
let voxelCount = arguments.count > 1 ? Int(arguments.last!) ?? 3000 : 3000
var rules: [ScalingRule] = arguments.dropFirst().dropLast().map { $0 == "locscale2" ? .locscale2 : .exact(padFactor: Double($0)!) }
if rules.isEmpty { rules = [.exact(padFactor: 1), .exact(padFactor: 2), .locscale2] }

/// Seconds taken by `body`, best of `repeats`.
func best(of repeats: Int, _ body: () -> Void) -> Double {
    var fastest = Double.infinity
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        fastest = min(fastest, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
    }
    return fastest
}

// A random map, 96³ (3.5 MB per map, like a slab of a real one).
/// xorshift64*: cheap and seeded, so setup does not dominate a profile.
struct XorShift: RandomNumberGenerator {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    mutating func next() -> UInt64 {
        state ^= state >> 12; state ^= state << 25; state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}
var generator = XorShift()
let edge = 96
let shape = XYZ(edge, edge, edge)
let em = (0..<edge * edge * edge).map { _ in Float.random(in: -1...1, using: &generator) }
let model = (0..<edge * edge * edge).map { _ in Float.random(in: -1...1, using: &generator) }
// Voxels in the order a run takes them: x fastest, through an interior block of the map.
let span = edge - 32
let voxels = (0..<voxelCount).map { n in (16 + n % span, 16 + (n / span) % span, 16 + n / (span * span)) }

print("window \(window), \(voxelCount) voxels, one thread, \(FFTW.version)")
let bfactorMap = LocalBFactorMap(window: window, voxelSize: 1, noiseVariance: 1.0 / 3)
print("rule            P   FFT floor µs  its FFT µs  kernel µs  kernel/floor  batch µs  B map µs  B/batch")
for rule in rules {
    let layout = SpectrumLayout(window: window, rule: rule)
    let p = layout.padded
    let plan = RealToComplexPlan3D(nz: p, ny: p, nx: p, planning: .patient)
    let scaler = WindowScaler(layout: layout, fft: CubeFFT(padded: p, filled: window))
    // "its FFT": the paired complex transform of both cubes that the kernel runs (pruned when P > w).

    let cubeE = AlignedBuffer<Float>(count: p * p * p), cubeM = AlignedBuffer<Float>(count: p * p * p)
    for i in 0..<p * p * p { cubeE.pointer[i] = Float.random(in: -1...1, using: &generator); cubeM.pointer[i] = Float.random(in: -1...1, using: &generator) }
    let spectrumE = AlignedBuffer<Float>(count: 2 * layout.coefficientCount)
    let spectrumM = AlignedBuffer<Float>(count: 2 * layout.coefficientCount)
    let floor = best(of: 3) {
        for _ in 0..<voxelCount {
            plan.execute(cubeE, spectrumE)
            plan.execute(cubeM, spectrumM)
        }
    } / Double(voxelCount)

    // The kernel's own transform (paired complex, pruned when P > w) on its own.
    let cubeFFT = CubeFFT(padded: p, filled: window)
    let workspace = cubeFFT.makeWorkspace()
    let box = AlignedBuffer<Float>(count: cubeFFT.floatCount), boxSpectrum = AlignedBuffer<Float>(count: cubeFFT.floatCount)
    let kernelFFT = best(of: 3) {
        for _ in 0..<voxelCount { cubeFFT.execute(box, boxSpectrum, using: workspace) }
    } / Double(voxelCount)

    var sink: Float = 0
    // The same voxels as one batch (`WindowKernel`), and the local B map of the same voxels
    // (1 Å voxels, the uniform noise's variance 1/3 subtracted), alternately.
    let list = voxels.map { (x, y, z) in (z * edge + y) * edge + x }
    var values = [Float](repeating: 0, count: voxelCount)
    var batch = Double.infinity, bmap = Double.infinity
    var failed = 0
    let kernel = em.withUnsafeBufferPointer { e in
        model.withUnsafeBufferPointer { m in
            let source = WindowSource(experimental: e, model: m, shape: shape, experimentalOutside: 0, modelOutside: 0)
            list.withUnsafeBufferPointer { list in
                values.withUnsafeMutableBufferPointer { out in
                    for _ in 0..<3 {
                        batch = min(batch, best(of: 1) {
                            scaler.scale(list, batch: 0..<voxelCount, from: source, into: out, observer: nil)
                        })
                        bmap = min(bmap, best(of: 1) {
                            failed = bfactorMap.compute(source, voxels: Array(list), threads: 1).failedFits
                        })
                    }
                }
            }
            return best(of: 3) {
                for (x, y, z) in voxels { sink += scaler.scale(x: x, y: y, z: z, from: source) }
            } / Double(voxelCount)
        }
    }
    precondition(sink.isFinite && failed <= voxelCount)
    let name: String
    switch rule {
    case .exact(let f): name = "exact pad \(formatDecimal(f))"
    case .locscale2: name = "locscale2"
    }
    print(name.padding(toLength: 14, withPad: " ", startingAt: 0),
          String(format: "%3d  %12.1f  %10.1f  %9.1f  %12.2f  %8.1f  %8.1f  %6.1f %%", p, floor * 1e6, kernelFFT * 1e6,
                 kernel * 1e6, kernel / floor, batch / Double(voxelCount) * 1e6, bmap / Double(voxelCount) * 1e6,
                 100 * bmap / batch))
}
