import Foundation
import LocScaleCore

/// The fast mode's grid spread over the ranks in z-slabs, and its in-place transforms: 2-D
/// transforms of this rank's planes, messages between every pair of ranks to columns along z,
/// 1-D transforms of this rank's columns, and back, a part of the columns at a time
/// (`PlaneColumnFFT.columnParts`; every plane and column is transformed the same way for any
/// rank count, so N ranks give the 1-rank map bit for bit). Halo planes come from the ranks that
/// own them (the same direct, multi-hop exchange as exact mode's halos).
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
    /// Each rank's columns are transformed in this many parts (the same on every rank); part `c`
    /// of every rank's columns moves at once, by messages between each pair of ranks.
    private let columnChunks: Int
    /// One part of this rank's columns, `nz` complex values each.
    private let columns: AlignedBuffer<Float>
    /// The messages of one part: this rank's planes of a part of every rank's columns (to
    /// columns), or every rank's planes of a part of this rank's columns (back).
    private let sendBuffer: AlignedBuffer<Float>
    private let receiveBuffer: AlignedBuffer<Float>
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
        columnChunks = max(1, min(PlaneColumnFFT.columnParts, fft.columnCount / communicator.size))
        let chunks = columnChunks, ranks = columnsOfAllRanks
        let widest = ranks.map { owned in (0..<chunks).map { PlaneColumnFFT.part($0, of: chunks, owned).count }.max()! }
        let mine = widest[communicator.rank], myPlanes = planesOfAllRanks[communicator.rank].count
        columns = AlignedBuffer(count: max(1, 2 * size.z * mine))
        // This rank's own planes of its own columns move without a message.
        let messages = max(2 * myPlanes * (widest.reduce(0, +) - mine), 2 * (size.z - myPlanes) * mine)
        sendBuffer = AlignedBuffer(count: max(1, messages))
        receiveBuffer = AlignedBuffer(count: max(1, messages))
    }

    public func forward(_ planes: UnsafeMutablePointer<Float>) { transform(planes, forward: true) }

    public func inverse(_ planes: UnsafeMutablePointer<Float>) { transform(planes, forward: false) }

    private func transform(_ buffer: UnsafeMutablePointer<Float>, forward: Bool) {
        fft.transform(buffer, planeCount: planes.count, forward: forward, columnChunks: columnChunks) { chunk in
            let parts = columnsOfAllRanks.map { PlaneColumnFFT.part(chunk, of: columnChunks, $0) }
            toColumns(buffer, parts: parts)
            fft.transformColumns(columns.pointer, count: parts[comm.rank].count, forward: forward)
            fromColumns(buffer, parts: parts)
        }
    }

    /// Offsets (floats) of consecutive blocks of `counts` floats in a message buffer.
    private static func offsets(_ counts: [Int]) -> [Int] {
        counts.reduce(into: [0]) { $0.append($0.last! + $1) }
    }

    /// This rank's planes of part `parts[r]` of rank `r`'s columns go to rank `r`; part
    /// `parts[rank]` of this rank's columns arrives from every other rank's planes, and from its
    /// own planes without a message.
    private func toColumns(_ buffer: UnsafeMutablePointer<Float>, parts: [Range<Int>]) {
        let me = comm.rank, mine = planes, stride = planeStride, own = parts[me]
        let sent = Self.offsets(parts.indices.map { $0 == me ? 0 : 2 * mine.count * parts[$0].count })
        for (r, part) in parts.enumerated() where r != me {
            for p in 0..<mine.count {
                (sendBuffer.pointer + sent[r] + 2 * p * part.count)
                    .update(from: buffer + p * stride + 2 * part.lowerBound, count: 2 * part.count)
            }
        }
        let received = Self.offsets(planesOfAllRanks.indices.map {
            $0 == me ? 0 : 2 * planesOfAllRanks[$0].count * own.count
        })
        exchange(sent: sent, received: received)
        guard !own.isEmpty else { return }
        for (source, theirs) in planesOfAllRanks.enumerated() where source != me && !theirs.isEmpty {
            fft.move(block: receiveBuffer.pointer + received[source], blockStride: own.count,
                     columnLayout: columns.pointer, planes: theirs, width: own.count, toColumns: true)
        }
        if !mine.isEmpty {
            fft.move(block: buffer + 2 * own.lowerBound, blockStride: fft.columnCount, columnLayout: columns.pointer,
                     planes: mine, width: own.count, toColumns: true)
        }
    }

    /// The reverse of `toColumns`.
    private func fromColumns(_ buffer: UnsafeMutablePointer<Float>, parts: [Range<Int>]) {
        let me = comm.rank, own = parts[me], stride = planeStride, mine = planes
        let sent = Self.offsets(planesOfAllRanks.indices.map {
            $0 == me ? 0 : 2 * planesOfAllRanks[$0].count * own.count
        })
        for (target, theirs) in planesOfAllRanks.enumerated() where target != me && !theirs.isEmpty && !own.isEmpty {
            fft.move(block: sendBuffer.pointer + sent[target], blockStride: own.count,
                     columnLayout: columns.pointer, planes: theirs, width: own.count, toColumns: false)
        }
        if !mine.isEmpty && !own.isEmpty {
            fft.move(block: buffer + 2 * own.lowerBound, blockStride: fft.columnCount, columnLayout: columns.pointer,
                     planes: mine, width: own.count, toColumns: false)
        }
        let received = Self.offsets(parts.indices.map { $0 == me ? 0 : 2 * mine.count * parts[$0].count })
        exchange(sent: sent, received: received)
        for (r, part) in parts.enumerated() where r != me {
            for p in 0..<mine.count {
                (buffer + p * stride + 2 * part.lowerBound)
                    .update(from: receiveBuffer.pointer + received[r] + 2 * p * part.count, count: 2 * part.count)
            }
        }
    }

    /// Sends block `r` of `sendBuffer` (floats `sent[r] ..< sent[r + 1]`) to every other rank `r`
    /// and receives block `r` of `receiveBuffer` from it; a failed exchange stops the run (the transforms are
    /// collective and cannot report it to their caller).
    private func exchange(sent: [Int], received: [Int]) {
        let ranks = (0..<comm.size).filter { $0 != comm.rank }
        let sends = ranks.map { r in
            (rank: r, values: UnsafeBufferPointer(start: sendBuffer.pointer + sent[r], count: sent[r + 1] - sent[r]))
        }
        let receives = ranks.map { r in
            (rank: r, buffer: UnsafeMutableBufferPointer(start: receiveBuffer.pointer + received[r],
                                                         count: received[r + 1] - received[r]))
        }
        do { try comm.exchange(sends: sends, receives: receives) } catch {
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
