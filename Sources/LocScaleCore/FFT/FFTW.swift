import CFFTW
#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The single-precision FFTW library. Only plan execution is thread-safe in FFTW; planning goes
/// through `FFTW.plannerLock`.
public enum FFTW {
    /// FFTW's version string, e.g. "fftw-3.3.10-sse2-avx".
    public static var version: String { String(cString: localscale_fftwf_version()) }

    /// Serialises every call into FFTW's planner.
    static let plannerLock = NSLock()

    /// FFTW's threads, initialised once; whole-map transforms use them (`threads:` below).
    nonisolated(unsafe) private static var threadsReady = false

    /// Initialises FFTW's threads once; FFTW-MPI wants this before `fftwf_mpi_init`.
    public static func initialiseThreads() {
        plannerLock.withLock { if !threadsReady { threadsReady = fftwf_init_threads() != 0 } }
    }

    /// Plans `make()` with `threads` FFTW threads (1 for per-voxel plans), under the planner lock.
    public static func plan<T>(threads: Int, _ make: () -> T) -> T {
        plannerLock.withLock {
            if threads > 1 && !threadsReady { threadsReady = fftwf_init_threads() != 0 }
            if threadsReady { fftwf_plan_with_nthreads(Int32(max(1, threads))) }
            defer { if threadsReady { fftwf_plan_with_nthreads(1) } }
            return make()
        }
    }

    /// Loads plans measured earlier from a wisdom file. With them FFTW makes exactly the plans
    /// it made then, so outputs are bitwise reproducible across runs that share the file; plans
    /// measured afresh may pick another algorithm and differ in the last bits.
    /// - Returns: false when the file does not exist or is not FFTW wisdom.
    @discardableResult
    public static func importWisdom(from path: String) -> Bool {
        guard FileManager.default.fileExists(atPath: path) else { return false }
        return plannerLock.withLock { fftwf_import_wisdom_from_filename(path) != 0 }
    }

    /// Every plan measured so far as text (to hand to other processes).
    public static func exportWisdom() -> String {
        plannerLock.withLock {
            guard let text = fftwf_export_wisdom_to_string() else { return "" }
            defer { free(text) }
            return String(cString: text)
        }
    }

    /// Loads plans from `exportWisdom()` text of another process.
    @discardableResult
    public static func importWisdom(text: String) -> Bool {
        plannerLock.withLock { fftwf_import_wisdom_from_string(text) != 0 }
    }

    /// Saves every plan measured so far (plus what was imported) to `path`, atomically
    /// (`OutputFiles`), creating its folder when needed.
    public static func exportWisdom(to path: String) throws {
        try OutputFiles.write(Array(exportWisdom().utf8), to: path)
    }
}

/// Memory from `fftwf_malloc`: aligned for FFTW's SIMD kernels, so any buffer of this type may be
/// passed to a plan made on another buffer of this type (FFTW's new-array execute rule).
public final class AlignedBuffer<Element> {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Element>

    /// `count` elements, zero-filled.
    public init(count: Int) {
        self.count = count
        let raw = fftwf_malloc(max(1, count) * MemoryLayout<Element>.stride)!
        memset(raw, 0, max(1, count) * MemoryLayout<Element>.stride)
        self.pointer = raw.bindMemory(to: Element.self, capacity: max(1, count))
    }

    deinit { fftwf_free(pointer) }

    public var buffer: UnsafeMutableBufferPointer<Element> {
        UnsafeMutableBufferPointer(start: pointer, count: count)
    }
}

/// A 3-D real-to-complex FFT of a (z, y, x) real array, x fastest, into the (z, y, x/2+1)
/// half-spectrum stored as interleaved (re, im) floats. Unnormalised, `exp(-2πi k·x/N)`.
///
/// The plan is made once; `execute(_:_:)` may be called from many threads at once on different
/// `AlignedBuffer`s, and gives bitwise the same result for the same input on every thread.
public final class RealToComplexPlan3D: @unchecked Sendable {
    /// Real box size along z, y, x.
    public let nz: Int, ny: Int, nx: Int
    /// Floats in one real input array.
    public var realCount: Int { nz * ny * nx }
    /// Complex coefficients in one half-spectrum: nz · ny · (nx/2 + 1).
    public var complexCount: Int { nz * ny * (nx / 2 + 1) }

    private let plan: fftwf_plan

    /// Plans with the given effort and FFTW threads (for whole maps), on `buffers` when given
    /// (planning on scratch arrays would double the memory of a big transform; `.estimate`
    /// leaves them untouched). The input array is preserved by `execute`.
    public init(nz: Int, ny: Int, nx: Int, planning: FFTPlanning = .patient, threads: Int = 1,
                buffers: (input: AlignedBuffer<Float>, output: AlignedBuffer<Float>)? = nil) {
        self.nz = nz; self.ny = ny; self.nx = nx
        let input = buffers?.input ?? AlignedBuffer<Float>(count: nz * ny * nx)
        let output = buffers?.output ?? AlignedBuffer<Float>(count: 2 * nz * ny * (nx / 2 + 1))
        let flags = planning.flags
        plan = FFTW.plan(threads: threads) {
            output.pointer.withMemoryRebound(to: fftwf_complex.self, capacity: nz * ny * (nx / 2 + 1)) {
                fftwf_plan_dft_r2c_3d(Int32(nz), Int32(ny), Int32(nx), input.pointer, $0, flags)!
            }
        }
    }

    deinit { FFTW.plannerLock.withLock { fftwf_destroy_plan(plan) } }

    /// Transforms `input` (`realCount` floats) into `output` (`2 · complexCount` floats).
    @inline(__always)
    public func execute(_ input: AlignedBuffer<Float>, _ output: AlignedBuffer<Float>) {
        output.pointer.withMemoryRebound(to: fftwf_complex.self, capacity: complexCount) {
            fftwf_execute_dft_r2c(plan, input.pointer, $0)
        }
    }
}

/// The inverse of `RealToComplexPlan3D` (unnormalised: a round trip multiplies by nz·ny·nx).
/// Used by tests and the validation paths, never per voxel.
public final class ComplexToRealPlan3D: @unchecked Sendable {
    public let nz: Int, ny: Int, nx: Int
    private let plan: fftwf_plan

    /// Plans with `FFTW_ESTIMATE` (arrays untouched) and FFTW threads, on `buffers` when given.
    public init(nz: Int, ny: Int, nx: Int, threads: Int = 1,
                buffers: (input: AlignedBuffer<Float>, output: AlignedBuffer<Float>)? = nil) {
        self.nz = nz; self.ny = ny; self.nx = nx
        let input = buffers?.input ?? AlignedBuffer<Float>(count: 2 * nz * ny * (nx / 2 + 1))
        let output = buffers?.output ?? AlignedBuffer<Float>(count: nz * ny * nx)
        plan = FFTW.plan(threads: threads) {
            input.pointer.withMemoryRebound(to: fftwf_complex.self, capacity: nz * ny * (nx / 2 + 1)) {
                fftwf_plan_dft_c2r_3d(Int32(nz), Int32(ny), Int32(nx), $0, output.pointer,
                                      localscale_fftw_estimate())!
            }
        }
    }

    deinit { FFTW.plannerLock.withLock { fftwf_destroy_plan(plan) } }

    /// Transforms `input` (destroyed) into `output`.
    public func execute(_ input: AlignedBuffer<Float>, _ output: AlignedBuffer<Float>) {
        input.pointer.withMemoryRebound(to: fftwf_complex.self, capacity: nz * ny * (nx / 2 + 1)) {
            fftwf_execute_dft_c2r(plan, $0, output.pointer)
        }
    }
}
