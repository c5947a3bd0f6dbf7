import Foundation
import LocScaleCore

/// The fast mode's grid spread over the ranks in z-slabs, and its in-place transforms: 2-D
/// transforms of this rank's planes, an all-to-all to columns along z, 1-D transforms of this
/// rank's columns, and back (`PlaneColumnFFT`: every plane and column is transformed the same
/// way for any rank count, so N ranks give the 1-rank map bit for bit). Halo planes come from
/// the ranks that own them (the same direct, multi-hop exchange as exact mode's halos).
public final class DistributedSlabGrid: SlabGrid {
    public let size: XYZ<Int>
    public var planes: Range<Int> { planesOfAllRanks[comm.rank] }
    public var bufferCount: Int { max(1, planes.count * planeStride) }
    private let fft: PlaneColumnFFT
    private let comm: Communicator
    /// Every rank's planes, in rank order: an even split of the grid's planes.
    public let planesOfAllRanks: [Range<Int>]
    /// Every rank's columns (`PlaneColumnFFT`), in rank order.
    private let columnsOfAllRanks: [Range<Int>]
    /// This rank's columns, `nz` complex values each.
    private let columns: AlignedBuffer<Float>
    /// Seconds spent in halo exchanges so far (for the timing table).
    public private(set) var haloSeconds = 0.0

    /// Plans the transforms (collective; see `LocalSlabGrid.init` for `planning`). Rank 0 plans
    /// first and every other rank plans from its wisdom, so that all run the same plans.
    public init(size: XYZ<Int>, communicator: Communicator, planning: FFTPlanning, threads: Int) throws {
        self.size = size
        comm = communicator
        func split(_ count: Int) -> [Range<Int>] {
            (0..<communicator.size).map { count * $0 / communicator.size ..< count * ($0 + 1) / communicator.size }
        }
        planesOfAllRanks = split(size.z)
        var planned = communicator.isRoot ? PlaneColumnFFT(size: size, threads: threads, planning: planning) : nil
        let wisdom = try communicator.broadcast(communicator.isRoot ? FFTW.exportWisdom() : "")
        if !communicator.isRoot {
            FFTW.importWisdom(text: wisdom)
            planned = PlaneColumnFFT(size: size, threads: threads, planning: planning)
        }
        fft = planned!
        columnsOfAllRanks = split(fft.columnCount)
        columns = AlignedBuffer(count: max(1, 2 * size.z * columnsOfAllRanks[communicator.rank].count))
    }

    public func forward(_ buffer: AlignedBuffer<Float>) { transform(buffer, forward: true) }

    public func inverse(_ buffer: AlignedBuffer<Float>) { transform(buffer, forward: false) }

    private func transform(_ buffer: AlignedBuffer<Float>, forward: Bool) {
        precondition(buffer.count >= bufferCount)
        fft.transform(buffer.pointer, planeCount: planes.count, columns: columns.pointer,
                      columnCount: columnsOfAllRanks[comm.rank].count, forward: forward) { toColumns in
            if toColumns { self.toColumns(buffer) } else { fromColumns(buffer) }
        }
    }

    /// This rank's planes of every rank's columns go to that rank; this rank's columns arrive
    /// from every rank's planes.
    private func toColumns(_ buffer: AlignedBuffer<Float>) {
        let mine = planes, stride = planeStride
        if comm.size == 1 { return moveLocally(buffer, toColumns: true) }
        let blocks = columnsOfAllRanks.map { owned -> [Float] in
            var block = [Float](repeating: 0, count: 2 * mine.count * owned.count)
            block.withUnsafeMutableBufferPointer { target in
                for p in 0..<mine.count {
                    (target.baseAddress! + 2 * p * owned.count)
                        .update(from: buffer.pointer + p * stride + 2 * owned.lowerBound, count: 2 * owned.count)
                }
            }
            return block
        }
        let received = exchange(blocks)
        for (source, var block) in received.enumerated() where !block.isEmpty {
            block.withUnsafeMutableBufferPointer {
                fft.move(block: $0.baseAddress!, columnLayout: columns.pointer, planes: planesOfAllRanks[source],
                         columns: columnsOfAllRanks[comm.rank], toColumns: true)
            }
        }
    }

    /// The reverse of `toColumns`.
    private func fromColumns(_ buffer: AlignedBuffer<Float>) {
        let owned = columnsOfAllRanks[comm.rank], stride = planeStride
        if comm.size == 1 { return moveLocally(buffer, toColumns: false) }
        let blocks = planesOfAllRanks.map { theirs -> [Float] in
            var block = [Float](repeating: 0, count: 2 * theirs.count * owned.count)
            if block.isEmpty { return block }
            block.withUnsafeMutableBufferPointer {
                fft.move(block: $0.baseAddress!, columnLayout: columns.pointer, planes: theirs, columns: owned,
                         toColumns: false)
            }
            return block
        }
        let received = exchange(blocks)
        for (source, block) in received.enumerated() where !block.isEmpty {
            let theirs = columnsOfAllRanks[source]
            block.withUnsafeBufferPointer { source in
                for p in 0..<planes.count {
                    (buffer.pointer + p * stride + 2 * theirs.lowerBound)
                        .update(from: source.baseAddress! + 2 * p * theirs.count, count: 2 * theirs.count)
                }
            }
        }
    }

    /// One rank: the slab is one block of every column (a plane of the half-spectrum is its
    /// columns in order), moved without copies.
    private func moveLocally(_ buffer: AlignedBuffer<Float>, toColumns: Bool) {
        fft.move(block: buffer.pointer, columnLayout: columns.pointer, planes: planes,
                 columns: 0 ..< fft.columnCount, toColumns: toColumns)
    }

    /// All-to-all of float blocks; a failed exchange stops the run (the transforms are collective
    /// and cannot report it to their caller).
    private func exchange(_ blocks: [[Float]]) -> [[Float]] {
        do { return try comm.allToAll(blocks) } catch {
            FileHandle.standardError.write(Data("localscale: error: rank \(comm.rank): \(error)\n".utf8))
            comm.abort(1)
        }
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
