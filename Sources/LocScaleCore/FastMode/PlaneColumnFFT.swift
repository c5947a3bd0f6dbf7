import CFFTW

/// The fast mode's 3-D real grid transform, computed the same way whatever the slab split and
/// the threads, so that a map scaled on N ranks is the 1-rank map bit for bit: a 2-D r2c (or
/// c2r) of every z-plane with one plan, and a 1-D c2c along z of every (y, kx) column with one
/// plan. Each plane and each column is one execution of the same plan on the same values
/// (FFTW_UNALIGNED, so that where a plane or column lies in memory does not change the code
/// that runs), whichever process or thread holds it. The caller moves the spectrum between the
/// plane layout (this process's z-planes, each `ny` rows of `rowLength` floats) and the column
/// layout (columns of `nz` complex values, contiguous): locally, or by an MPI all-to-all.
///
/// Column `j` is the complex value `j = y·(nx/2+1) + kx` of every plane: in a plane of the
/// half-spectrum the columns lie in order, so a block of columns of a plane is contiguous.
public final class PlaneColumnFFT: @unchecked Sendable {
    public let size: XYZ<Int>
    public let threads: Int
    private let planeForward: fftwf_plan
    private let planeInverse: fftwf_plan
    private let columnForward: fftwf_plan
    private let columnInverse: fftwf_plan

    /// Complex values per plane of the half-spectrum, and the number of columns.
    public var columnCount: Int { size.y * (size.x / 2 + 1) }
    /// Floats per plane in the plane layout.
    public var planeStride: Int { 2 * columnCount }
    /// Parts the columns are transformed in, one part's column layout (and under MPI its
    /// messages) held at a time: 1/32 of the slab each instead of three copies of it.
    public static let columnParts = 32

    /// Plans with one FFTW thread each (the planes and columns are shared by `threads` threads):
    /// FFTW_ESTIMATE for `.estimate`, else FFTW_MEASURE. Measured plans differ from run to run
    /// unless they come from wisdom; under MPI every rank must make them from rank 0's wisdom.
    public init(size: XYZ<Int>, threads: Int, planning: FFTPlanning) {
        self.size = size
        self.threads = max(1, threads)
        let flags = (planning == .estimate ? FFTPlanning.estimate.flags : FFTPlanning.measure.flags)
            | UInt32(FFTW_UNALIGNED)
        let plane = AlignedBuffer<Float>(count: 2 * size.y * (size.x / 2 + 1))
        let column = AlignedBuffer<Float>(count: 2 * size.z)
        let (nz, ny, nx) = (Int32(size.z), Int32(size.y), Int32(size.x))
        (planeForward, planeInverse, columnForward, columnInverse) = FFTW.plan(threads: 1) {
            (fftwf_plan_dft_r2c_2d(ny, nx, plane.pointer, plane.complex, flags)!,
             fftwf_plan_dft_c2r_2d(ny, nx, plane.complex, plane.pointer, flags)!,
             fftwf_plan_dft_1d(nz, column.complex, column.complex, FFTW_FORWARD, flags)!,
             fftwf_plan_dft_1d(nz, column.complex, column.complex, FFTW_BACKWARD, flags)!)
        }
    }

    deinit {
        FFTW.plannerLock.withLock {
            [planeForward, planeInverse, columnForward, columnInverse].forEach(fftwf_destroy_plan)
        }
    }

    /// The 3-D transform, r2c (`forward`) or c2r, in place, of this process's `planeCount`
    /// planes at `planes`, the columns in `columnChunks` parts: `columnPass(c)` moves part `c` of
    /// every process's columns out of the planes, transforms it (`transformColumns`) and moves it
    /// back, so that a part's column layout is the only copy held at a time.
    public func transform(_ planes: UnsafeMutablePointer<Float>, planeCount: Int, forward: Bool, columnChunks: Int,
                          columnPass: (_ chunk: Int) -> Void) {
        if forward { transformPlanes(planes, count: planeCount, forward: true) }
        for chunk in 0..<columnChunks { columnPass(chunk) }
        if !forward { transformPlanes(planes, count: planeCount, forward: false) }
    }

    /// Part `chunk` of `parts` of the columns `columns`: equal parts in order.
    public static func part(_ chunk: Int, of parts: Int, _ columns: Range<Int>) -> Range<Int> {
        let n = columns.count
        return columns.lowerBound + n * chunk / parts ..< columns.lowerBound + n * (chunk + 1) / parts
    }

    /// The 2-D r2c (`forward`) or c2r transform of `count` planes at `planes`, in place.
    func transformPlanes(_ planes: UnsafeMutablePointer<Float>, count: Int, forward: Bool) {
        let stride = planeStride
        let work = UnsafeSendable((planes, forward ? planeForward : planeInverse))
        parallelChunks(count, threads: threads) { chunk in
            let (planes, plan) = work.value
            for p in chunk {
                let real = planes + p * stride
                let complex = UnsafeMutableRawPointer(real).assumingMemoryBound(to: fftwf_complex.self)
                if forward { fftwf_execute_dft_r2c(plan, real, complex) } else { fftwf_execute_dft_c2r(plan, complex, real) }
            }
        }
    }

    /// The 1-D c2c transform along z (`forward`: e^{−2πi}) of `count` columns at `columns`, in place.
    public func transformColumns(_ columns: UnsafeMutablePointer<Float>, count: Int, forward: Bool) {
        let length = 2 * size.z
        let work = UnsafeSendable((columns, forward ? columnForward : columnInverse))
        parallelChunks(count, threads: threads) { chunk in
            let (columns, plan) = work.value
            for j in chunk {
                let column = UnsafeMutableRawPointer(columns + j * length).assumingMemoryBound(to: fftwf_complex.self)
                fftwf_execute_dft(plan, column, column)
            }
        }
    }

    /// `width` columns of planes `planes` (global z) between a block in plane order (complex
    /// value `j` of plane `z` at `block[(z − planes.lowerBound)·blockStride + j]`) and the column
    /// layout (`columnLayout[j·nz + z]`); `toColumns` says which way.
    public func move(block: UnsafeMutablePointer<Float>, blockStride: Int, columnLayout: UnsafeMutablePointer<Float>,
                     planes: Range<Int>, width: Int, toColumns: Bool) {
        let nz = size.z
        let work = UnsafeSendable((block, columnLayout))
        parallelChunks(width, threads: threads) { chunk in
            let (block, columnLayout) = work.value
            for j in chunk {
                let column = columnLayout + 2 * j * nz
                for z in planes {
                    let b = block + 2 * ((z - planes.lowerBound) * blockStride + j)
                    if toColumns {
                        column[2 * z] = b[0]; column[2 * z + 1] = b[1]
                    } else {
                        b[0] = column[2 * z]; b[1] = column[2 * z + 1]
                    }
                }
            }
        }
    }
}
