import CFFTW

/// A real `nz × ny × nx` grid (the fast mode's padded box) held in z-slabs, one per process,
/// with in-place real-to-complex transforms and the exchange of neighbouring planes. The fast
/// scaler works on one slab through this protocol and knows nothing of how the slabs are spread:
/// `LocalSlabGrid` is the whole grid in one process; LocScaleParallel's `DistributedSlabGrid` is
/// one rank's slab of an FFTW-MPI layout.
///
/// Layout of every buffer: this process's planes, each `ny` rows of `rowLength = 2(nx/2+1)`
/// floats (x fastest; the last floats of a row are padding). After `forward` the same memory
/// holds the half-spectrum of the same planes: per plane `ny × (nx/2+1)` interleaved complex
/// values, `kz` = the plane's z.
public protocol SlabGrid: AnyObject {
    /// Grid size in voxels along x, y, z.
    var size: XYZ<Int> { get }
    /// The z-planes this process holds, of the grid and of its half-spectrum (possibly empty).
    var planes: Range<Int> { get }
    /// Floats in one buffer: at least `planes.count · ny · rowLength` (FFTW-MPI may need more).
    var bufferCount: Int { get }
    /// Real grid → half-spectrum, in place, unnormalised (collective under MPI).
    func forward(_ buffer: AlignedBuffer<Float>)
    /// Half-spectrum → real grid, in place, unnormalised (collective under MPI).
    func inverse(_ buffer: AlignedBuffer<Float>)
    /// Fills the halo planes of `slab` — this process's planes widened by up to `below` planes
    /// under and `above` over them, clipped to the grid (`heldPlanes`), `planeStride` floats
    /// each, with this process's own planes already in place — from the processes that hold
    /// them (collective under MPI).
    func exchangeHalo(_ slab: UnsafeMutableBufferPointer<Float>, planeStride: Int, below: Int, above: Int) throws
    /// The element-wise sum of `values` (the same count on every process) over the processes,
    /// on every process (collective under MPI).
    func sumOverProcesses(_ values: [Double]) throws -> [Double]
}

extension SlabGrid {
    /// Floats per row of a buffer.
    public var rowLength: Int { 2 * (size.x / 2 + 1) }
    /// Floats per plane of a buffer.
    public var planeStride: Int { size.y * rowLength }
    /// Complex half-spectrum coefficients per plane.
    public var spectrumPlaneCount: Int { size.y * (size.x / 2 + 1) }
    /// This process's planes widened by up to `below` planes under and `above` over them,
    /// clipped to the grid.
    public func heldPlanes(below: Int, above: Int) -> Range<Int> {
        HaloRange(core: planes, below: below, above: above, depth: size.z).held
    }

    /// A zero-filled buffer of this layout.
    public func makeBuffer() -> AlignedBuffer<Float> { AlignedBuffer(count: bufferCount) }
}

/// The whole grid in one process: FFTW's threaded in-place r2c/c2r plans, made once.
public final class LocalSlabGrid: SlabGrid {
    public let size: XYZ<Int>
    public var planes: Range<Int> { 0 ..< size.z }
    public var bufferCount: Int { size.z * planeStride }
    private let forwardPlan: fftwf_plan
    private let inversePlan: fftwf_plan

    /// Plans both transforms with `threads` FFTW threads: FFTW_ESTIMATE for `.estimate`, else
    /// FFTW_MEASURE (a patient search on a whole grid would take minutes). Measured plans run
    /// 10–35 % faster than estimated ones (280³ to 432×378×432, one or two threads) and take
    /// 20–50 s to make, once: the wisdom file keeps them.
    public init(size: XYZ<Int>, threads: Int, planning: FFTPlanning) {
        self.size = size
        let flags = planning == .estimate ? FFTPlanning.estimate.flags : FFTPlanning.measure.flags
        let scratch = AlignedBuffer<Float>(count: size.z * size.y * 2 * (size.x / 2 + 1))
        let real = scratch.pointer
        let complex = UnsafeMutableRawPointer(real).assumingMemoryBound(to: fftwf_complex.self)
        let (nz, ny, nx) = (Int32(size.z), Int32(size.y), Int32(size.x))
        (forwardPlan, inversePlan) = FFTW.plan(threads: threads) {
            (fftwf_plan_dft_r2c_3d(nz, ny, nx, real, complex, flags)!,
             fftwf_plan_dft_c2r_3d(nz, ny, nx, complex, real, flags)!)
        }
    }

    deinit {
        FFTW.plannerLock.withLock {
            fftwf_destroy_plan(forwardPlan)
            fftwf_destroy_plan(inversePlan)
        }
    }

    public func forward(_ buffer: AlignedBuffer<Float>) {
        fftwf_execute_dft_r2c(forwardPlan, buffer.pointer, buffer.complex)
    }

    public func inverse(_ buffer: AlignedBuffer<Float>) {
        fftwf_execute_dft_c2r(inversePlan, buffer.complex, buffer.pointer)
    }

    public func exchangeHalo(_ slab: UnsafeMutableBufferPointer<Float>, planeStride: Int, below: Int,
                             above: Int) throws {}

    public func sumOverProcesses(_ values: [Double]) throws -> [Double] { values }
}
