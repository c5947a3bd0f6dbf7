import CFFTW

/// The DFT on an even-sized grid of a real kernel that is even along every axis and vanishes for
/// `|d_a| ≥ N_a/2`: real and even itself, it is the 3-D DCT-I (FFTW's REDFT00) of the kernel's
/// non-negative octant, `N_a/2 + 1` points per axis — an eighth of the points of a grid FFT,
/// real arithmetic, the same in every process. The analysis kernels `λ_s` are such kernels.
final class EvenKernelTransform {
    /// Octant size along x, y, z: `N/2 + 1`.
    let octant: XYZ<Int>
    /// The octant, (z, y, x), x fastest: fill with the kernel's values at `d ≥ 0`.
    let kernel: AlignedBuffer<Float>
    /// After `execute()`: the DFT at frequencies `0 … N/2` per axis (same layout).
    let spectrum: AlignedBuffer<Float>
    private let plan: fftwf_plan

    init(grid size: XYZ<Int>, threads: Int) {
        precondition(size.x % 2 == 0 && size.y % 2 == 0 && size.z % 2 == 0, "the fast grid has even sizes")
        octant = XYZ(size.x / 2 + 1, size.y / 2 + 1, size.z / 2 + 1)
        kernel = AlignedBuffer(count: octant.x * octant.y * octant.z)
        spectrum = AlignedBuffer(count: octant.x * octant.y * octant.z)
        let (input, output, n) = (kernel.pointer, spectrum.pointer, octant)
        plan = FFTW.plan(threads: threads) {
            localscale_fftwf_plan_dct1_3d(Int32(n.z), Int32(n.y), Int32(n.x), input, output, localscale_fftw_estimate())!
        }
    }

    deinit { FFTW.plannerLock.withLock { fftwf_destroy_plan(plan) } }

    func execute() { fftwf_execute(plan) }

    /// Index into `spectrum` of grid frequency index (fx ≤ N/2, fy, fz) (folded: `f` and `N − f`
    /// have the same value).
    @inline(__always)
    func index(fx: Int, fy: Int, fz: Int, size: XYZ<Int>) -> Int {
        let y = fy <= size.y / 2 ? fy : size.y - fy, z = fz <= size.z / 2 ? fz : size.z - fz
        return (z * octant.y + y) * octant.x + fx
    }
}
