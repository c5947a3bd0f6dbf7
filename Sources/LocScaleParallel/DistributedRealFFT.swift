import CFFTWMPI
import CMPI

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
    /// This rank's planes: `planes.count × ny × rowLength` floats (at least one float).
    public let local: UnsafeMutableBufferPointer<Float>
    private let forwardPlan: fftwf_plan
    private let inversePlan: fftwf_plan

    /// Registers FFTW-MPI's solvers; `Communicator.start()` calls it, so that every run — with or
    /// without distributed transforms — reads and writes the same kind of FFTW wisdom (a wisdom
    /// file with MPI entries does not import into a planner without them).
    static func initialiseFFTWMPI() { fftwf_mpi_init() }

    public init(nz: Int, ny: Int, nx: Int, communicator: Communicator) {
        self.nz = nz; self.ny = ny; self.nx = nx
        var localCount = 0, localStart = 0
        let complexCount = fftwf_mpi_local_size_3d(nz, ny, nx / 2 + 1, communicator.comm, &localCount, &localStart)
        planes = localStart ..< localStart + localCount
        let floats = max(1, 2 * complexCount)
        local = UnsafeMutableBufferPointer(start: fftwf_alloc_real(floats)!, count: floats)
        local.update(repeating: 0)
        let complex = UnsafeMutableRawPointer(local.baseAddress!).assumingMemoryBound(to: fftwf_complex.self)
        forwardPlan = fftwf_mpi_plan_dft_r2c_3d(nz, ny, nx, local.baseAddress, complex, communicator.comm, UInt32(FFTW_ESTIMATE))
        inversePlan = fftwf_mpi_plan_dft_c2r_3d(nz, ny, nx, complex, local.baseAddress, communicator.comm, UInt32(FFTW_ESTIMATE))
    }

    deinit {
        fftwf_destroy_plan(forwardPlan)
        fftwf_destroy_plan(inversePlan)
        fftwf_free(local.baseAddress)
    }

    /// The planes every rank holds, in rank order (collective).
    public func planesOfAllRanks(_ communicator: Communicator) throws -> [Range<Int>] {
        let layout = try communicator.allGather([Double(planes.lowerBound), Double(planes.count)])
        return (0..<communicator.size).map { Int(layout[2 * $0]) ..< Int(layout[2 * $0] + layout[2 * $0 + 1]) }
    }

    /// Real grid → half-spectrum, in place (collective).
    public func forward() {
        let complex = UnsafeMutableRawPointer(local.baseAddress!).assumingMemoryBound(to: fftwf_complex.self)
        fftwf_mpi_execute_dft_r2c(forwardPlan, local.baseAddress, complex)
    }

    /// Half-spectrum → real grid, in place (collective).
    public func inverse() {
        let complex = UnsafeMutableRawPointer(local.baseAddress!).assumingMemoryBound(to: fftwf_complex.self)
        fftwf_mpi_execute_dft_c2r(inversePlan, complex, local.baseAddress)
    }
}
