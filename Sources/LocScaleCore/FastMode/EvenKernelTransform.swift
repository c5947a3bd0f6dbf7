import CFFTW

/// The DFT on an even-sized grid of a real kernel that is even along every axis and vanishes for
/// `|d_a| ≥ N_a/2`: real and even itself, it is the 3-D DCT-I (FFTW's REDFT00) of the kernel's
/// non-negative octant, `N_a/2 + 1` points per axis — an eighth of the points of a grid FFT,
/// real arithmetic, the same in every process. The analysis kernels `λ_s` are such kernels.
final class EvenKernelTransform {
    /// Octant size along x, y, z: `N/2 + 1`.
    let octant: XYZ<Int>
    /// After `transform`: the DFT at frequencies `0 … N/2` per axis ((z, y, x), x fastest).
    let spectrum: AlignedBuffer<Float>
    /// Planned on a buffer of its own and run on the caller's (`transform`), which is free at
    /// that moment: the kernel's octant is not held between shells.
    private let plan: fftwf_plan

    /// Floats of the kernel's octant, the scratch `transform` needs.
    var octantCount: Int { octant.x * octant.y * octant.z }

    init(grid size: XYZ<Int>, threads: Int) {
        precondition(size.x % 2 == 0 && size.y % 2 == 0 && size.z % 2 == 0, "the fast grid has even sizes")
        octant = XYZ(size.x / 2 + 1, size.y / 2 + 1, size.z / 2 + 1)
        let kernel = AlignedBuffer<Float>(count: octant.x * octant.y * octant.z)
        spectrum = AlignedBuffer(count: octant.x * octant.y * octant.z)
        let (input, output, n) = (kernel.pointer, spectrum.pointer, octant)
        plan = FFTW.plan(threads: threads) {
            localscale_fftwf_plan_dct1_3d(Int32(n.z), Int32(n.y), Int32(n.x), input, output, localscale_fftw_estimate())!
        }
    }

    deinit { FFTW.plannerLock.withLock { fftwf_destroy_plan(plan) } }

    /// Transforms the kernel with `value(dx, dy, dz)` at `0 ≤ d_a ≤ reach` and 0 elsewhere in the
    /// octant, laid out in `scratch` (`octantCount` floats at the start of an `AlignedBuffer`, so
    /// aligned as the plan's own buffer was: FFTW runs the same code); the result is in `spectrum`.
    func transform(reach: Int, scratch: AlignedBuffer<Float>, _ value: (Int, Int, Int) -> Float) {
        precondition(scratch.count >= octantCount)
        let kernel = scratch.pointer
        kernel.update(repeating: 0, count: octantCount)
        for dz in 0...reach {
            for dy in 0...reach {
                for dx in 0...reach { kernel[(dz * octant.y + dy) * octant.x + dx] = value(dx, dy, dz) }
            }
        }
        fftwf_execute_r2r(plan, kernel, spectrum.pointer)
    }

    /// The octant index of grid frequency index `f` on an axis of `n` points: `f` and `n − f`
    /// have the same value.
    @inline(__always)
    static func fold(_ f: Int, _ n: Int) -> Int { f <= n / 2 ? f : n - f }

    /// Index into `spectrum` of grid frequency index (fx ≤ N/2, fy, fz).
    @inline(__always)
    func index(fx: Int, fy: Int, fz: Int, size: XYZ<Int>) -> Int {
        (Self.fold(fz, size.z) * octant.y + Self.fold(fy, size.y)) * octant.x + fx
    }
}
