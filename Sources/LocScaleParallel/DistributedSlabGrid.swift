import LocScaleCore

/// The fast mode's grid spread over the ranks in FFTW-MPI's z-slabs: in-place distributed
/// r2c/c2r transforms on any buffer of the layout, and halo planes from the ranks that own them
/// (the same direct, multi-hop exchange as exact mode's halos).
public final class DistributedSlabGrid: SlabGrid {
    public let size: XYZ<Int>
    public var planes: Range<Int> { fft.planes }
    public var bufferCount: Int { fft.localCount }
    private let fft: DistributedRealFFT
    private let comm: Communicator
    /// Every rank's planes, in rank order.
    public let planesOfAllRanks: [Range<Int>]
    /// Seconds spent in halo exchanges so far (for the timing table).
    public private(set) var haloSeconds = 0.0

    /// Plans the transforms (collective; see `LocalSlabGrid.init` for `planning`).
    public init(size: XYZ<Int>, communicator: Communicator, planning: FFTPlanning, threads: Int) throws {
        self.size = size
        comm = communicator
        fft = DistributedRealFFT(nz: size.z, ny: size.y, nx: size.x, communicator: communicator,
                                 planning: planning, threads: threads)
        // The transforms run on the fast scaler's buffers; the array they were planned on goes.
        fft.releaseLocal()
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

    public func sumOverProcesses(_ values: [Double]) throws -> [Double] {
        try comm.allReduceSum(values)
    }

    public func exchangeHalo(_ slab: UnsafeMutableBufferPointer<Float>, planeStride: Int, below: Int,
                             above: Int) throws {
        let started = Communicator.time
        defer { haloSeconds += Communicator.time - started }
        let transfers = haloTransfers(partition: SlabPartition(ranges: planesOfAllRanks), below: below, above: above,
                                      depth: size.z)
        try comm.exchangeHalo(slab, held: heldPlanes(below: below, above: above), core: planes,
                              planeStride: planeStride, transfers: transfers)
    }
}
