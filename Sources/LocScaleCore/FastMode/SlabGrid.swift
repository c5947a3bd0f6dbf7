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
    /// Real grid → half-spectrum, in place, unnormalised (collective under MPI), of this
    /// process's planes from `planes` on (`bufferCount` floats).
    func forward(_ planes: UnsafeMutablePointer<Float>)
    /// Half-spectrum → real grid, in place, unnormalised (collective under MPI).
    func inverse(_ planes: UnsafeMutablePointer<Float>)
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

    /// `forward` of a buffer of this layout.
    public func forward(_ buffer: AlignedBuffer<Float>) {
        precondition(buffer.count >= bufferCount)
        forward(buffer.pointer)
    }

    /// `inverse` of a buffer of this layout.
    public func inverse(_ buffer: AlignedBuffer<Float>) {
        precondition(buffer.count >= bufferCount)
        inverse(buffer.pointer)
    }
}

/// The whole grid in one process, transformed by `PlaneColumnFFT` as every rank of a
/// `DistributedSlabGrid` transforms its part: the same values bit for bit.
public final class LocalSlabGrid: SlabGrid {
    public let size: XYZ<Int>
    public var planes: Range<Int> { 0 ..< size.z }
    public var bufferCount: Int { size.z * planeStride }
    private let fft: PlaneColumnFFT
    /// The columns are transformed in this many parts, one part's column layout at a time.
    private let columnChunks: Int
    /// One part of the half-spectrum in columns along z (`PlaneColumnFFT`).
    private let columns: AlignedBuffer<Float>

    /// Plans with FFTW_ESTIMATE for `.estimate`, else FFTW_MEASURE (a patient search is not
    /// worth it: the plans are for one plane and one column); `threads` share the planes and
    /// columns.
    public init(size: XYZ<Int>, threads: Int, planning: FFTPlanning) {
        self.size = size
        fft = PlaneColumnFFT(size: size, threads: threads, planning: planning)
        let chunks = max(1, min(PlaneColumnFFT.columnParts, fft.columnCount)), count = fft.columnCount
        columnChunks = chunks
        let widest = (0..<chunks).map { PlaneColumnFFT.part($0, of: chunks, 0 ..< count).count }
        columns = AlignedBuffer(count: 2 * size.z * widest.max()!)
    }

    public func forward(_ planes: UnsafeMutablePointer<Float>) { transform(planes, forward: true) }

    public func inverse(_ planes: UnsafeMutablePointer<Float>) { transform(planes, forward: false) }

    /// The whole grid is one block of all planes; each part of the columns is moved out of it,
    /// transformed and moved back.
    private func transform(_ buffer: UnsafeMutablePointer<Float>, forward: Bool) {
        let all = 0 ..< fft.columnCount
        fft.transform(buffer, planeCount: size.z, forward: forward, columnChunks: columnChunks) { chunk in
            let part = PlaneColumnFFT.part(chunk, of: columnChunks, all)
            let block = buffer + 2 * part.lowerBound
            fft.move(block: block, blockStride: fft.columnCount, columnLayout: columns.pointer, planes: 0 ..< size.z,
                     width: part.count, toColumns: true)
            fft.transformColumns(columns.pointer, count: part.count, forward: forward)
            fft.move(block: block, blockStride: fft.columnCount, columnLayout: columns.pointer, planes: 0 ..< size.z,
                     width: part.count, toColumns: false)
        }
    }

    public func sumOverProcesses(_ values: [Double]) throws -> [Double] { values }

    public func exchangeHalo(_ slab: UnsafeMutableBufferPointer<Float>, planeStride: Int, below: Int,
                             above: Int) throws {}
}
