// Local B map benchmark (issue 14 item 3): the B map of exact mode (pad 1, pad 2) and fast mode
// (pad 1, pad 2) through the library calls the engine uses, written as MRC maps for
// benchmarks/bfactor-truth.py, and the cost of the B map: each run with and without the
// observer, alternately, best of `repeats` (wall seconds on `threads` threads), and the thread-seconds
// spent inside the observer's calls.
//
//   swift run -c release localscale-bfactor-bench EM MODEL MASK OUTDIR [stride] [threads] [repeats]
//
// Exact mode scales the masked voxels on every `stride`-th plane, row and column (stride 1: all);
// fast mode scales all masked voxels. Window: LocScale's default; Guinier range 10 Å to Nyquist.
import Foundation
import LocScaleCore
import Synchronization

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 4 else {
    print("usage: localscale-bfactor-bench EM MODEL MASK OUTDIR [stride] [threads] [repeats]")
    exit(2)
}
let outDirectory = arguments[3]
let stride = arguments.count > 4 ? Int(arguments[4])! : 1
let threads = arguments.count > 5 ? Int(arguments[5])! : 2
let repeats = arguments.count > 6 ? Int(arguments[6])! : 2

func read(_ path: String) throws -> NamedVolume { NamedVolume(path: path, volume: try MRCFile.read(path: path).volume) }
let em = try read(arguments[0])
let grid = em.volume.grid
let window = defaultWindow(meanVoxelSize: grid.meanVoxelSize)
let inputs = try ScalingInputs(experimental: em, model: try read(arguments[1]), mask: try read(arguments[2]),
                               window: window)
let shape = grid.shape
let masked = LocalScaling.voxelsToScale(inputs, window: window, rule: .exact(padFactor: 1))
let onLattice = masked.filter { i in
    i % shape.x % stride == 0 && (i / shape.x) % shape.y % stride == 0 && i / (shape.x * shape.y) % stride == 0
}
print("\(shape.x)×\(shape.y)×\(shape.z), voxel \(grid.meanVoxelSize) Å, window \(window); \(masked.count) masked voxels, "
      + "\(onLattice.count) on the stride-\(stride) lattice; \(threads) threads, best of \(repeats)")

/// Wall seconds of `body`.
func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
}

/// Writes `values` of `voxels` as a map (0 elsewhere) to OUTDIR/name.
func writeMap(_ values: [Float], at voxels: [Int], name: String) throws {
    var volume = Volume(zerosOn: grid)
    for (n, i) in voxels.enumerated() { volume.values[i] = values[n] }
    try MRCFile.write(volume, to: outDirectory + "/" + name, labels: ["localscale-bfactor-bench \(name)"])
}

/// A `LocalBFactorObserver` that also sums the thread-seconds spent in its calls: the work the
/// B map adds to a run, free of the noise of timing two whole runs on a shared machine.
final class TimedObserver: ShellSpectrumObserver, ShellPowerSweepObserver, @unchecked Sendable {
    let inner: LocalBFactorObserver
    private let nanoseconds = Atomic<UInt64>(0)
    init(_ inner: LocalBFactorObserver) { self.inner = inner }
    var threadSeconds: Double { Double(nanoseconds.load(ordering: .relaxed)) * 1e-9 }

    private func timed(_ body: () -> Void) {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        nanoseconds.add(DispatchTime.now().uptimeNanoseconds - start, ordering: .relaxed)
    }
    func observe(voxel: Int, experimental: UnsafeBufferPointer<Double>, model: UnsafeBufferPointer<Double>) {
        timed { inner.observe(voxel: voxel, experimental: experimental, model: model) }
    }
    func observe(shell: Int, experimental: UnsafeBufferPointer<Double>, model: UnsafeBufferPointer<Double>,
                 voxels: Range<Int>) {
        timed { inner.observe(shell: shell, experimental: experimental, model: model, voxels: voxels) }
    }
}

/// Times `run(observer)` without and with a B observer, alternately; writes the B map.
func measure(_ name: String, voxels: [Int], layout: SpectrumLayout,
             _ run: (TimedObserver?) throws -> Void) throws {
    var plain = Double.infinity, observed = Double.infinity
    var observer: TimedObserver!
    for _ in 0..<repeats {
        plain = min(plain, try seconds { try run(nil) })
        let b = TimedObserver(LocalBFactorObserver(layout: layout, voxelSize: grid.meanVoxelSize,
                                                   voxelCount: voxels.count))
        observed = min(observed, try seconds { try run(b) })
        observer = b
    }
    let b = observer.inner.bfactors
    try writeMap(b, at: voxels, name: "bfactor-\(name).mrc")
    let fitted = b.filter { $0 != 0 }
    print(String(format: "%-10@ %8d voxels  %2d shells  without B %7.2f s  with B %7.2f s (%+5.1f %%)  "
                 + "in the observer %.3f thread-s (%.2f %% of %d threads × the run)  failed fits %d  B %.1f … %.1f Å²",
                 name as NSString, voxels.count, observer.inner.fitBins.count, plain, observed,
                 100 * (observed / plain - 1), observer.threadSeconds,
                 100 * observer.threadSeconds / (Double(threads) * plain), threads, observer.inner.failedFits,
                 fitted.min() ?? 0, fitted.max() ?? 0))
}

let e = em.volume, m = inputs.model.volume
try e.values.withUnsafeBufferPointer { ev in
    try m.values.withUnsafeBufferPointer { mv in
        let source = WindowSource(experimental: ev, model: mv, shape: shape,
                                  experimentalOutside: inputs.meanOutsideMask(e), modelOutside: inputs.meanOutsideMask(m))
        for pad in [1.0, 2.0] {
            let layout = SpectrumLayout(window: window, rule: .exact(padFactor: pad))
            let fft = CubeFFT(padded: layout.padded, filled: window, planning: .measure)
            try measure("exact-pad\(Int(pad))", voxels: onLattice, layout: layout) { observer in
                _ = LocalScaling.scale(source, voxels: onLattice, layout: layout, fft: fft, threads: threads,
                                       observer: observer)
            }
        }
    }
}
for pad in [1.0, 2.0] {
    let layout = SpectrumLayout(window: window, rule: .exact(padFactor: pad))
    try measure("fast-pad\(Int(pad))", voxels: masked, layout: layout) { observer in
        _ = try FastScaling.run(inputs, voxels: masked, window: window, padFactor: pad, threads: threads,
                                planning: .measure, observer: observer)
    }
}
