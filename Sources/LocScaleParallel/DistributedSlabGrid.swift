import LocScaleCore

/// The fast mode's grid spread over the ranks in FFTW-MPI's z-slabs: in-place distributed
/// r2c/c2r transforms on any buffer of the layout, and halo planes from the ranks that own them
/// (the same direct, multi-hop exchange as exact mode's halos).
public final class DistributedSlabGrid: SlabGrid {
    public let size: XYZ<Int>
    public var planes: Range<Int> { fft.planes }
    public var bufferCount: Int { fft.local.count }
    private let fft: DistributedRealFFT
    private let comm: Communicator
    /// Every rank's planes, in rank order.
    public let planesOfAllRanks: [Range<Int>]
    /// Seconds spent in halo exchanges so far (for the timing table).
    public private(set) var haloSeconds = 0.0

    /// Plans the transforms (collective); see `DistributedRealFFT.init` for `planning`.
    public init(size: XYZ<Int>, communicator: Communicator, planning: FFTPlanning, threads: Int) throws {
        self.size = size
        comm = communicator
        fft = DistributedRealFFT(nz: size.z, ny: size.y, nx: size.x, communicator: communicator,
                                 planning: planning, threads: threads)
        planesOfAllRanks = try fft.planesOfAllRanks(communicator)
    }

    public func forward(_ buffer: AlignedBuffer<Float>) {
        precondition(buffer.count >= bufferCount)
        fft.forward(buffer.pointer)
    }

    public func inverse(_ buffer: AlignedBuffer<Float>) {
        precondition(buffer.count >= bufferCount)
        fft.inverse(buffer.pointer)
    }

    public func planesAround(_ local: UnsafeBufferPointer<Float>, planeStride: Int, below: Int,
                             above: Int) throws -> (held: Range<Int>, values: [Float]) {
        let started = Communicator.time
        defer { haloSeconds += Communicator.time - started }
        let partition = SlabPartition(ranges: planesOfAllRanks)
        let mine = planes
        let held = HaloRange(core: mine, below: below, above: above, depth: size.z).held
        let transfers = haloTransfers(partition: partition, below: below, above: above, depth: size.z)
        let values = try comm.planes(held, core: mine, local: local, planeStride: planeStride, transfers: transfers)
        return (held, values)
    }
}
