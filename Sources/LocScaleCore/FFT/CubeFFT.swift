import CFFTW

/// The forward r2c FFT of a `P³` box whose only non-zero values lie in the planes `z < w` and,
/// within them, the rows `y < w` (a window cube placed at the y–z corner). Output: the same
/// (z, y, x/2+1) half-spectrum as `RealToComplexPlan3D`, interleaved (re, im).
///
/// When `P > w` the transform is pruned: r2c along x only for the `w²` filled rows, c2c along y
/// only for the `w` filled planes, then c2c along z for everything — about 0.6 of the work of a
/// full 3-D FFT at pad factor 2. Each stage writes a buffer that the later stages read, so the
/// zeros the pruning relies on are never overwritten. Plans are made once (FFTW_MEASURE) and
/// shared by threads; each thread brings its own `Workspace`.
public final class CubeFFT: @unchecked Sendable {
    /// FFT box edge `P`.
    public let padded: Int
    /// Filled planes and rows `w`.
    public let filled: Int
    /// True when the pruned three-stage path is used (`P > w`).
    public let isPruned: Bool
    private let plans: [fftwf_plan]

    /// Intermediate spectra of the pruned path (zeros where later stages rely on them).
    public final class Workspace {
        let afterX: AlignedBuffer<Float>
        let afterY: AlignedBuffer<Float>

        init(complexCount: Int, pruned: Bool) {
            afterX = AlignedBuffer(count: pruned ? 2 * complexCount : 0)
            afterY = AlignedBuffer(count: pruned ? 2 * complexCount : 0)
        }
    }

    private var complexCount: Int { padded * padded * (padded / 2 + 1) }

    public init(padded p: Int, filled w: Int) {
        precondition(w <= p)
        padded = p
        filled = w
        isPruned = p > w
        let h = p / 2 + 1
        let count = p * p * h
        let input = AlignedBuffer<Float>(count: p * p * p)
        let a = AlignedBuffer<Float>(count: 2 * count), b = AlignedBuffer<Float>(count: 2 * count)
        let c = AlignedBuffer<Float>(count: 2 * count)
        let flags = localscale_fftw_measure()
        let pruned = isPruned
        plans = FFTW.plannerLock.withLock {
            func complex(_ buffer: AlignedBuffer<Float>) -> UnsafeMutablePointer<fftwf_complex> {
                UnsafeMutableRawPointer(buffer.pointer).assumingMemoryBound(to: fftwf_complex.self)
            }
            guard pruned else {
                return [fftwf_plan_dft_r2c_3d(Int32(p), Int32(p), Int32(p), input.pointer, complex(c), flags)!]
            }
            func dim(_ n: Int, _ inStride: Int, _ outStride: Int) -> fftwf_iodim {
                fftwf_iodim(n: Int32(n), is: Int32(inStride), os: Int32(outStride))
            }
            // x: r2c of the w² filled rows.
            var xLength = [dim(p, 1, 1)]
            var xRows = [dim(w, p * p, p * h), dim(w, p, h)]
            let alongX = fftwf_plan_guru_dft_r2c(1, &xLength, 2, &xRows, input.pointer, complex(a), flags)!
            // y: c2c of the w filled planes, every kx column.
            var yLength = [dim(p, h, h)]
            var yColumns = [dim(w, p * h, p * h), dim(h, 1, 1)]
            let alongY = fftwf_plan_guru_dft(1, &yLength, 2, &yColumns, complex(a), complex(b), FFTW_FORWARD, flags)!
            // z: c2c of every (y, kx) column.
            var zLength = [dim(p, p * h, p * h)]
            var zColumns = [dim(p * h, 1, 1)]
            let alongZ = fftwf_plan_guru_dft(1, &zLength, 1, &zColumns, complex(b), complex(c), FFTW_FORWARD, flags)!
            return [alongX, alongY, alongZ]
        }
    }

    deinit { FFTW.plannerLock.withLock { plans.forEach(fftwf_destroy_plan) } }

    /// Work buffers for one thread.
    public func makeWorkspace() -> Workspace { Workspace(complexCount: complexCount, pruned: isPruned) }

    /// Transforms `input` (`P³` floats, preserved) into `output` (`2 · P·P·(P/2+1)` floats).
    @inline(__always)
    public func execute(_ input: AlignedBuffer<Float>, _ output: AlignedBuffer<Float>, using workspace: Workspace) {
        func complex(_ buffer: AlignedBuffer<Float>) -> UnsafeMutablePointer<fftwf_complex> {
            UnsafeMutableRawPointer(buffer.pointer).assumingMemoryBound(to: fftwf_complex.self)
        }
        guard isPruned else {
            fftwf_execute_dft_r2c(plans[0], input.pointer, complex(output))
            return
        }
        fftwf_execute_dft_r2c(plans[0], input.pointer, complex(workspace.afterX))
        fftwf_execute_dft(plans[1], complex(workspace.afterX), complex(workspace.afterY))
        fftwf_execute_dft(plans[2], complex(workspace.afterY), complex(output))
    }
}
