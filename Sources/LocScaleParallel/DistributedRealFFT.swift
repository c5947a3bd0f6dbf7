import CFFTWMPI
import CMPI
import LocScaleCore

/// A real `nz × ny × nx` grid distributed over the ranks in z-slabs, as FFTW-MPI lays it out, and
/// its in-place r2c / c2r transforms (unnormalised). Rows are padded to `rowLength = 2(nx/2+1)`
/// floats; after `forward()` the same memory holds this rank's planes of the half-spectrum,
/// `ny × (nx/2+1)` complex values per plane, in the same z-slab distribution.
public final class DistributedRealFFT {
    public let nz: Int, ny: Int, nx: Int
    /// The z-planes this rank holds (possibly empty).
    public let planes: Range<Int>
    /// Floats per row of the local array.
    public var rowLength: Int { 2 * (nx / 2 + 1) }
    /// Floats of `local`, and of any other array the transforms run on (FFTW-MPI's allocation:
    /// at least `planes.count × ny × rowLength`, and at least one).
    public let localCount: Int
    /// This rank's planes (empty after `releaseLocal()`).
    public private(set) var local: UnsafeMutableBufferPointer<Float>
    private let forwardPlan: fftwf_plan
    private let inversePlan: fftwf_plan

    /// Registers FFTW-MPI's solvers; `Communicator.start()` calls it, so that every run — with or
    /// without distributed transforms — reads and writes the same kind of FFTW wisdom (a wisdom
    /// file with MPI entries does not import into a planner without them).
    static func initialiseFFTWMPI() { fftwf_mpi_init() }

    /// Plans in-place transforms on `local` with `threads` FFTW threads per rank: FFTW_ESTIMATE,
    /// or FFTW_MEASURE for `.measure` and `.patient` (see `LocalSlabGrid.init`).
    public init(nz: Int, ny: Int, nx: Int, communicator: Communicator, planning: FFTPlanning = .estimate,
                threads: Int = 1) {
        self.nz = nz; self.ny = ny; self.nx = nx
        var planeCount = 0, firstPlane = 0
        let complexCount = fftwf_mpi_local_size_3d(nz, ny, nx / 2 + 1, communicator.comm, &planeCount, &firstPlane)
        planes = firstPlane ..< firstPlane + planeCount
        localCount = max(1, 2 * complexCount)
        local = UnsafeMutableBufferPointer(start: fftwf_alloc_real(localCount)!, count: localCount)
        local.update(repeating: 0)
        let complex = UnsafeMutableRawPointer(local.baseAddress!).assumingMemoryBound(to: fftwf_complex.self)
        let flags = planning == .estimate ? UInt32(FFTW_ESTIMATE) : UInt32(FFTW_MEASURE)
        let real = local.baseAddress
        (forwardPlan, inversePlan) = FFTW.plan(threads: threads) {
            (fftwf_mpi_plan_dft_r2c_3d(nz, ny, nx, real, complex, communicator.comm, flags)!,
             fftwf_mpi_plan_dft_c2r_3d(nz, ny, nx, complex, real, communicator.comm, flags)!)
        }
    }

    deinit {
        fftwf_destroy_plan(forwardPlan)
        fftwf_destroy_plan(inversePlan)
        if let base = local.baseAddress { fftwf_free(base) }
    }

    /// Frees `local`, for a caller that runs the transforms only on arrays of its own.
    public func releaseLocal() {
        if let base = local.baseAddress { fftwf_free(base) }
        local = UnsafeMutableBufferPointer(start: nil, count: 0)
    }

    /// The planes every rank holds, in rank order (collective).
    public func planesOfAllRanks(_ communicator: Communicator) throws -> [Range<Int>] {
        let layout = try communicator.allGather([Double(planes.lowerBound), Double(planes.count)])
        return (0..<communicator.size).map { Int(layout[2 * $0]) ..< Int(layout[2 * $0] + layout[2 * $0 + 1]) }
    }

    /// Real grid → half-spectrum, in place (collective), on `local` or on another array of
    /// `localCount` floats from FFTW's allocator.
    public func forward(_ array: UnsafeMutablePointer<Float>? = nil) {
        let real = array ?? local.baseAddress!
        let complex = UnsafeMutableRawPointer(real).assumingMemoryBound(to: fftwf_complex.self)
        fftwf_mpi_execute_dft_r2c(forwardPlan, real, complex)
    }

    /// Half-spectrum → real grid, in place (collective), on `local` or another array like it.
    public func inverse(_ array: UnsafeMutablePointer<Float>? = nil) {
        let real = array ?? local.baseAddress!
        let complex = UnsafeMutableRawPointer(real).assumingMemoryBound(to: fftwf_complex.self)
        fftwf_mpi_execute_dft_c2r(inversePlan, complex, real)
    }
}

extension DistributedRealFFT {
    /// The z-planes this rank holds of an `nz × ny × nx` grid (as `planes` of a transform of it),
    /// without planning or allocating one.
    public static func localPlanes(nz: Int, ny: Int, nx: Int, communicator: Communicator) -> Range<Int> {
        var planeCount = 0, firstPlane = 0
        _ = fftwf_mpi_local_size_3d(nz, ny, nx / 2 + 1, communicator.comm, &planeCount, &firstPlane)
        return firstPlane ..< firstPlane + planeCount
    }
}
