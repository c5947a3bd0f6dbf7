#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LocScaleCore
import LocScaleParallel

/// What plain sequential I/O achieves on the run's own files, measured by rank 0 after the run
/// (`--io-floor`): the floor the run's read and write bandwidth are compared with. Both go
/// through the page cache as the run's I/O does; see `ScaleJob.ioFloor`.
public struct IOFloor: Sendable, Equatable {
    /// Bytes and seconds of reading every input map once, whole, in 8 MiB `pread` blocks.
    public let readBytes: Int
    public let readSeconds: Double
    /// Bytes and seconds of writing as many bytes as the run wrote to a temporary file in the
    /// first output's folder, in 8 MiB `pwrite` blocks, then `fsync`; the file is removed after.
    public let writeBytes: Int
    public let writeSeconds: Double

    /// Block of every read and write, bytes.
    static let blockBytes = 8 << 20

    /// MB/s (10⁶ bytes) of the read and of the write; 0 for no bytes.
    public var bandwidth: (read: Double, write: Double) {
        func rate(_ bytes: Int, _ seconds: Double) -> Double { seconds > 0 ? Double(bytes) / seconds / 1e6 : 0 }
        return (rate(readBytes, readSeconds), rate(writeBytes, writeSeconds))
    }

    /// Named values for `/timing`'s attributes (prefixed `io_floor_`) and the timings JSON.
    var fields: [(String, Double)] {
        [("read_bytes", Double(readBytes)), ("read_s", readSeconds), ("read_mb_s", bandwidth.read),
         ("write_bytes", Double(writeBytes)), ("write_s", writeSeconds), ("write_mb_s", bandwidth.write)]
    }

    /// Reads `inputs` and writes `writeBytes` bytes next to `output` (as `OUTPUT.io-floor.tmp-PID`,
    /// removed before returning, also on failure; such files of dead runs are removed first).
    public static func measure(reading inputs: [String], writing writeBytes: Int, nextTo output: String) throws -> IOFloor {
        var block = [UInt8](repeating: 0, count: blockBytes)
        var start = Communicator.time
        var readBytes = 0
        for path in inputs { readBytes += try read(path, through: &block) }
        let readSeconds = Communicator.time - start

        let scratch = OutputFiles()    // never committed: its deinit removes the file
        let temporary = try scratch.temporaryPath(for: output + ".io-floor")
        start = Communicator.time
        try write(writeBytes, from: block, to: temporary, naming: output)
        return IOFloor(readBytes: readBytes, readSeconds: readSeconds, writeBytes: writeBytes,
                       writeSeconds: Communicator.time - start)
    }

    /// Reads the file at `path` to its end; its size.
    private static func read(_ path: String, through block: inout [UInt8]) throws -> Int {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw IOFloorError(path: path, reason: errnoDescription()) }
        defer { close(fd) }
        var offset = 0
        while true {
            let count = block.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            guard count >= 0 else { throw IOFloorError(path: path, reason: errnoDescription()) }
            if count == 0 { return offset }
            offset += count
        }
    }

    /// Writes `bytes` bytes (repeats of `block`) to a new file at `temporary`, then fsyncs it.
    private static func write(_ bytes: Int, from block: [UInt8], to temporary: String, naming output: String) throws {
        let fail = { OutputError.cannotWrite(path: temporary, reason: errnoDescription()) }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw fail() }
        defer { close(fd) }
        var offset = 0
        while offset < bytes {
            let count = block.withUnsafeBytes { pwrite(fd, $0.baseAddress, min($0.count, bytes - offset), off_t(offset)) }
            guard count > 0 else { throw fail() }
            offset += count
        }
        guard fsync(fd) == 0 else { throw fail() }
    }
}

/// An input map that the floor measurement cannot read (it was read by the run just before).
struct IOFloorError: Error, CustomStringConvertible {
    let path: String
    let reason: String
    var description: String { "\(path): cannot read for --io-floor: \(reason)" }
}

extension ScaleJob {
    /// The map files the run reads by slab (experimental map or half maps, model map, mask).
    var mapFiles: [String] {
        let experimental = switch experimental {
        case .map(let path): [path]
        case .halfMaps(let first, let second): [first, second]
        }
        let model: [String] = if case .map(let path) = model { [path] } else { [] }
        return experimental + model + (mask.file.map { [$0] } ?? [])
    }

    /// The first output file: the floor's temporary file goes next to it.
    var firstOutput: String? {
        [outputs.map, outputs.hdf5, outputs.timingsJSON, outputs.savedModelMap].compactMap { $0 }.first
    }
}

extension ScaleRun {
    /// Every rank's timings gathered, with rank 0's `IOFloor` when the job asks for it (collective;
    /// a failure of the measurement reaches every rank).
    func gatheredTimings(_ timings: RankTimings) throws -> TimingTable {
        var table = TimingTable(rows: try comm.allGather(timings.row), ranks: comm.size)
        if job.ioFloor, let output = job.firstOutput {
            let written = table.bytesWritten.reduce(0, +)
            table.floor = try comm.rootTries {
                try IOFloor.measure(reading: job.mapFiles, writing: written, nextTo: output)
            }
        }
        return table
    }
}
