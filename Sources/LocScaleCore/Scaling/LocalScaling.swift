import Foundation
import Synchronization

/// How many voxels of a run are done; read from any thread while the run goes on.
public final class ScalingProgress: Sendable {
    /// Voxels to scale in this run.
    public let total: Int
    private let done = Atomic<Int>(0)

    public init(total: Int) { self.total = total }

    /// Voxels scaled so far.
    public var completed: Int { done.load(ordering: .relaxed) }

    func add(_ count: Int) { done.add(count, ordering: .relaxed) }
}

/// Local amplitude scaling of a whole map: which voxels to scale, and scaling them on threads.
public enum LocalScaling {
    /// Linear (z, y, x) indices of the voxels that `rule` scales, in increasing order.
    ///
    /// The exact rule scales every voxel with mask ≥ 0.5. The locscale2 rule does too, except
    /// that, like LocScale 2.4.1, when no such voxel comes within `w/2` of an edge it drops those
    /// with a coordinate equal to `n − w/2` (docs/COMPAT-LOCSCALE2.md, rule 3).
    public static func voxelsToScale(_ inputs: ScalingInputs, window: Int, rule: ScalingRule) -> [Int] {
        let shape = inputs.experimental.volume.grid.shape
        var selected: [Int] = []
        for i in 0..<shape.x * shape.y * shape.z where inputs.isScaled(i) { selected.append(i) }
        guard rule == .locscale2 else { return selected }
        let half = window / 2
        func coordinates(_ i: Int) -> XYZ<Int> { XYZ(i % shape.x, (i / shape.x) % shape.y, i / (shape.x * shape.y)) }
        let bleeds = selected.contains { i in
            let c = coordinates(i)
            return (0..<3).contains { c[$0] < half || c[$0] > shape[$0] - half }
        }
        if bleeds { return selected }
        return selected.filter { i in
            let c = coordinates(i)
            return !(0..<3).contains { c[$0] == shape[$0] - half }
        }
    }

    /// Scales `voxels` of `inputs` with `threads` threads sharing them; every other voxel of the
    /// result is 0. See `scale(_:voxels:layout:fft:threads:progress:observer:)`.
    public static func run(_ inputs: ScalingInputs, voxels: [Int], layout: SpectrumLayout,
                           threads: Int, planning: FFTPlanning = .patient,
                           progress: ScalingProgress? = nil, observer: (any ShellSpectrumObserver)? = nil) -> Volume {
        let em = inputs.experimental.volume, model = inputs.model.volume
        var result = Volume(zerosOn: em.grid)
        let values = em.values.withUnsafeBufferPointer { e in
            model.values.withUnsafeBufferPointer { m in
                let source = WindowSource(experimental: e, model: m, shape: em.grid.shape,
                                          experimentalOutside: inputs.meanOutsideMask(em),
                                          modelOutside: inputs.meanOutsideMask(model))
                let fft = CubeFFT(padded: layout.padded, filled: layout.window, planning: planning)
                return scale(source, voxels: voxels, layout: layout, fft: fft, threads: threads, progress: progress,
                             observer: observer)
            }
        }
        for (n, i) in voxels.enumerated() { result.values[i] = values[n] }
        return result
    }

    /// The scaled values of `voxels` (linear (z, y, x) indices in the box) of `source`, in the
    /// same order, computed by `threads` threads sharing them with the plans of `fft`. A value does not depend on
    /// `threads`: each voxel is computed alone, with the same FFT plans, whatever thread takes it.
    /// Across runs the result is the same when the plans are (`FFTW.importWisdom`). Each voxel's
    /// shell sums go to `observer` (docs/KERNEL.md §7); the values do not depend on it.
    public static func scale(_ source: WindowSource, voxels: [Int], layout: SpectrumLayout, fft: CubeFFT,
                             threads: Int, progress: ScalingProgress? = nil,
                             observer: (any ShellSpectrumObserver)? = nil) -> [Float] {
        scale(source, voxels: voxels, threads: threads, progress: progress, observer: observer) {
            WindowScaler(layout: layout, fft: fft)
        }
    }

    /// The scaled values of `voxels` of `source` by the kernels `makeKernel` makes, one per
    /// thread; the threads take batches of 32 voxels from a shared counter.
    public static func scale(_ source: WindowSource, voxels: [Int], threads: Int, progress: ScalingProgress? = nil,
                             observer: (any ShellSpectrumObserver)? = nil,
                             kernel makeKernel: @escaping @Sendable () -> any WindowKernel) -> [Float] {
        var values = [Float](repeating: 0, count: voxels.count)
        let chunk = 32
        let next = Atomic<Int>(0)
        voxels.withUnsafeBufferPointer { voxelList in
            values.withUnsafeMutableBufferPointer { output in
                let work = UnsafeSendable((voxelList, output))
                runOnThreads(max(1, threads)) { _ in
                    let kernel = makeKernel()
                    let (list, out) = work.value
                    while true {
                        let first = next.add(chunk, ordering: .relaxed).oldValue
                        if first >= list.count { break }
                        let last = min(first + chunk, list.count)
                        kernel.scale(list, batch: first..<last, from: source, into: out, observer: observer)
                        progress?.add(last - first)
                    }
                }
            }
        }
        return values
    }

    /// Runs `body(i)` for `i` in `0..<count`, each on its own thread (the calling thread waits;
    /// the threads are the process's `WorkerPool`), and returns when all are done.
    static func runOnThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        if count == 1 {
            body(0)
            return
        }
        WorkerPool.shared.run(count, body)
    }
}

/// Hands pointers to threads that touch disjoint parts of them.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
