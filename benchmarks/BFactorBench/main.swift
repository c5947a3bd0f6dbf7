// Local B map benchmark (issue 14 item 3): the B map (`LocalBFactorMap`, docs/KERNEL.md §8) of
// every masked voxel at each of `strides` (default 1,2,3), written as MRC maps for benchmarks/bfactor-truth.py,
// and its cost against the scaling it rides on (wall seconds, best of `repeats`, on `threads`
// threads): exact pad 1 on the masked voxels of every `sample`-th plane, row and column, the B
// map of the same voxels; fast mode (pad 1) on every masked voxel, the B map of every masked
// voxel at each stride. The noise variance is the noise region's (`LocalBFactorNoise`). The B
// map does not depend on the mode or the padding.
//
//   swift run -c release localscale-bfactor-bench EM MODEL MASK OUTDIR [sample] [threads] [repeats] [strides]
//                                                 [locscale2]
// (`locscale2`: LocScale 2's definition too, `LocScale2LocalBFactorMap`, into bfactor-ls2.mrc.)
import Foundation
import LocScaleCore

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 4 else {
    print("usage: localscale-bfactor-bench EM MODEL MASK OUTDIR [sample] [threads] [repeats] [strides]")
    exit(2)
}
let outDirectory = arguments[3]
let sample = arguments.count > 4 ? Int(arguments[4])! : 3
let threads = arguments.count > 5 ? Int(arguments[5])! : 1
let repeats = arguments.count > 6 ? Int(arguments[6])! : 1
let strides = (arguments.count > 7 ? arguments[7] : "1,2,3").split(separator: ",").map { Int($0)! }

func read(_ path: String) throws -> NamedVolume { NamedVolume(path: path, volume: try MRCFile.read(path: path).volume) }
let em = try read(arguments[0])
let grid = em.volume.grid
let window = defaultWindow(meanVoxelSize: grid.meanVoxelSize)
let inputs = try ScalingInputs(experimental: em, model: try read(arguments[1]), mask: try read(arguments[2]),
                               window: window)
let shape = grid.shape
let masked = LocalScaling.voxelsToScale(inputs, window: window, rule: .exact(padFactor: 1))
let sampled = masked.filter { i in
    i % shape.x % sample == 0 && (i / shape.x) % shape.y % sample == 0 && i / (shape.x * shape.y) % sample == 0
}
let noise = LocalBFactorNoise.variance(of: em.volume)
print("\(shape.x)×\(shape.y)×\(shape.z), voxel \(grid.meanVoxelSize) Å, window \(window); \(masked.count) masked voxels, "
      + "\(sampled.count) on the sample-\(sample) lattice; noise variance \(noise.map { "\($0)" } ?? "none"); "
      + "\(threads) threads, best of \(repeats)")

/// Wall seconds of `body`, best of `repeats`.
func seconds(_ body: () throws -> Void) rethrows -> Double {
    var best = Double.infinity
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
    }
    return best
}

let e = em.volume, m = inputs.model.volume
let maps = strides.map { LocalBFactorMap(window: window, voxelSize: grid.meanVoxelSize, noiseVariance: noise,
                                        stride: $0, planning: .measure) }
try e.values.withUnsafeBufferPointer { ev in
    try m.values.withUnsafeBufferPointer { mv in
        let source = WindowSource(experimental: ev, model: mv, shape: shape,
                                  experimentalOutside: inputs.meanOutsideMask(e), modelOutside: inputs.meanOutsideMask(m))
        let layout = SpectrumLayout(window: window, rule: .exact(padFactor: 1))
        let fft = CubeFFT(padded: layout.padded, filled: window, planning: .measure)
        let exact = seconds { _ = LocalScaling.scale(source, voxels: sampled, layout: layout, fft: fft, threads: threads) }
        let b = seconds { _ = maps[0].compute(source, voxels: sampled, threads: threads) }
        print(String(format: "exact pad 1, %d voxels: scaling %.2f s, B map (stride 1) %.2f s (+%.1f %%)",
                     sampled.count, exact, b, 100 * b / exact))
        let fast = try seconds {
            _ = try FastScaling.run(inputs, voxels: masked, window: window, padFactor: 1, threads: threads,
                                    planning: .measure)
        }
        let perVoxel = exact / Double(sampled.count)
        for map in maps {
            var result: LocalBFactors!
            let t = seconds { result = map.compute(source, voxels: masked, threads: threads) }
            var volume = Volume(zerosOn: grid)
            for (n, i) in masked.enumerated() { volume.values[i] = result.bfactors[n] }
            try MRCFile.write(volume, to: outDirectory + "/bfactor-stride\(map.stride).mrc",
                              labels: ["localscale-bfactor-bench stride \(map.stride)"])
            let fitted = result.bfactors.filter { $0 != 0 }
            print(String(format: "stride %d, %d voxels (%d windows): B map %.2f s, +%.1f %% of fast pad 1 (%.2f s), "
                         + "+%.1f %% of exact pad 1 (%.2f s estimated); failed fits %d; B %.1f … %.1f Å²",
                         map.stride, masked.count, result.computedVoxels, t, 100 * t / fast, fast,
                         100 * t / (perVoxel * Double(masked.count)), perVoxel * Double(masked.count),
                         result.failedFits, fitted.min() ?? 0, fitted.max() ?? 0))
        }
        if arguments.count > 8 && arguments[8] == "locscale2" {  // LocScale 2's definition, 10 Å to Nyquist
            let ls2 = LocScale2LocalBFactorMap(window: window, voxelSize: grid.voxelSize.x, planning: .measure)
            var result: LocalBFactors!
            let t = seconds { result = ls2.compute(source, voxels: masked, threads: threads) }
            var volume = Volume(zerosOn: grid)
            for (n, i) in masked.enumerated() { volume.values[i] = result.bfactors[n] }
            try MRCFile.write(volume, to: outDirectory + "/bfactor-ls2.mrc", labels: ["localscale-bfactor-bench ls2"])
            print(String(format: "locscale2 (box %d), %d voxels: B map %.2f s (%.1f µs/voxel); failed fits %d",
                         ls2.box, masked.count, t, 1e6 * t / Double(masked.count), result.failedFits))
        }
    }
}
