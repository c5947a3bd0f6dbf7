/// The per-voxel kernel seam (ARCHITECTURE §4 "a backend"): whatever scales a batch of voxels of a
/// `WindowSource` by their own windows. `WindowScaler` is the CPU kernel; another backend (a GPU,
/// say) is another type behind this protocol, and `LocalScaling.scale(_:voxels:threads:progress:observer:kernel:)`
/// runs any of them on threads. A kernel instance is used by one thread at a time.
public protocol WindowKernel: AnyObject {
    /// The window, padded box and shells the kernel works with.
    var layout: SpectrumLayout { get }

    /// Scales `voxels[batch]` (linear (z, y, x) indices in the box) into `values[batch]`, and
    /// hands each voxel's per-shell sums to `observer` (when there is one) under its position
    /// `n` in `voxels`. With or without an observer the values are the same bits.
    func scale(_ voxels: UnsafeBufferPointer<Int>, batch: Range<Int>, from source: WindowSource,
               into values: UnsafeMutableBufferPointer<Float>, observer: (any ShellSpectrumObserver)?)
}

/// Receives what a window kernel measured in one voxel's window: per bin of its layout
/// (`SpectrumLayout.binCount`), the experimental and model sums — powers `Σ weight·|F(k)|²` over
/// each shell of the padded cube's spectrum (exact rule), or amplitude sums `Σ |F(k)|` over
/// LocScale 2's profile shells of the half-spectrum (locscale2 rule); `SpectrumLayout.binSumsArePowers`
/// says which. Called from the thread that scaled the voxel, concurrently for different voxels,
/// so an observer writes only what belongs to `voxel`. The buffers are valid during the call only.
public protocol ShellSpectrumObserver: AnyObject, Sendable {
    func observe(voxel: Int, experimental: UnsafeBufferPointer<Double>, model: UnsafeBufferPointer<Double>)
}

/// Receives fast mode's local shell powers (ARCHITECTURE §1.2's `PE(s)`, `PM(s)` as the filter
/// bank estimates them, exact for the sliding-DFT shells), one shell at a time for every voxel:
/// `experimental[n]`, `model[n]` for the voxels `n` in `voxels` (positions in the voxel list).
/// Called with disjoint ranges from several threads, shells in increasing order.
public protocol ShellPowerSweepObserver: AnyObject, Sendable {
    func observe(shell: Int, experimental: UnsafeBufferPointer<Double>, model: UnsafeBufferPointer<Double>,
                 voxels: Range<Int>)
}
