import Foundation
import LocScaleCore
import LocScaleHDF5

/// Seconds one rank spent in each phase of a run, its planes, the voxels it scaled and the bytes
/// it read and wrote.
struct RankTimings {
    /// Seconds per phase, indexed by `Phase.rawValue`.
    var seconds = [Double](repeating: 0, count: Phase.allCases.count)
    var voxels = 0
    var planes = 0 ..< 0
    /// Bytes read from the input files and written to the outputs by this rank.
    var bytesRead = 0, bytesWritten = 0

    /// Flattened for `allGather`: the phase seconds, voxels, first plane, end plane, bytes read,
    /// bytes written.
    var row: [Double] {
        seconds + [Double(voxels), Double(planes.lowerBound), Double(planes.upperBound), Double(bytesRead),
                   Double(bytesWritten)]
    }
    static var rowLength: Int { Phase.allCases.count + 5 }
}

/// Every rank's timings, as gathered: printed by rank 0, stored in HDF5 `/timing` and as JSON.
public struct TimingTable: Sendable {
    /// `rows[r]` = rank r's `RankTimings.row`.
    public let rows: [[Double]]
    /// Rank 0's plain sequential read and write of the same files (`--io-floor`), if measured.
    public internal(set) var floor: IOFloor?

    init(rows flat: [Double], ranks: Int) {
        rows = (0..<ranks).map { Array(flat[$0 * RankTimings.rowLength ..< ($0 + 1) * RankTimings.rowLength]) }
    }

    private var phaseCount: Int { Phase.allCases.count }
    /// Seconds of `phase` per rank.
    func seconds(_ phase: Phase) -> [Double] { rows.map { $0[phase.rawValue] } }
    /// Compute seconds per rank.
    public var compute: [Double] { seconds(.compute) }
    /// Voxels scaled per rank.
    public var voxelCounts: [Int] { rows.map { Int($0[phaseCount]) } }
    /// Voxels scaled by all ranks.
    public var voxels: Int { voxelCounts.reduce(0, +) }
    var zStart: [Int] { rows.map { Int($0[phaseCount + 1]) } }
    var zEnd: [Int] { rows.map { Int($0[phaseCount + 2]) } }
    /// Bytes read and written per rank.
    public var bytesRead: [Int] { rows.map { Int($0[phaseCount + 3]) } }
    public var bytesWritten: [Int] { rows.map { Int($0[phaseCount + 4]) } }

    /// Read and write bandwidth of all ranks together, MB/s (10⁶ bytes): all bytes over the longest
    /// read (write) phase of any rank; 0 when nothing was moved.
    public var bandwidth: (read: Double, write: Double) {
        func rate(_ bytes: [Int], _ phase: Phase) -> Double {
            let seconds = self.seconds(phase).max() ?? 0
            return seconds > 0 ? Double(bytes.reduce(0, +)) / seconds / 1e6 : 0
        }
        return (rate(bytesRead, .read), rate(bytesWritten, .write))
    }

    /// max/mean compute seconds over the ranks (1 = balanced).
    public var imbalance: Double {
        let mean = compute.reduce(0, +) / Double(max(compute.count, 1))
        return mean > 0 ? compute.max()! / mean : 1
    }

    /// The table as rank 0 prints it.
    public var text: String {
        var lines = ["rank  planes        voxels     read  scatter     halo  compute   gather    write"
                     + "   MB read  MB written"]
        for r in rows.indices {
            let planes = "\(zStart[r])..<\(zEnd[r])".padding(toLength: 12, withPad: " ", startingAt: 0)
            let phases = Phase.allCases.map { String(format: "%8.2f", seconds($0)[r]) }.joined(separator: " ")
            let bytes = String(format: " %9.1f %11.1f", Double(bytesRead[r]) / 1e6, Double(bytesWritten[r]) / 1e6)
            lines.append(String(format: "%4d  ", r) + planes + String(format: "%8d ", voxelCounts[r]) + phases + bytes)
        }
        lines.append("compute imbalance (max/mean) \(String(format: "%.3f", imbalance))")
        return lines.joined(separator: "\n")
    }

    /// `/timing`: one entry per rank in each dataset, and the imbalance as an attribute.
    func write(to file: HDF5Writer) throws {
        try file.group("/timing")
        try file.write(rows.indices.map { Int64($0) }, to: "/timing/rank")
        try file.write(zStart.map(Int64.init), to: "/timing/z_start")
        try file.write(zEnd.map(Int64.init), to: "/timing/z_end")
        try file.write(voxelCounts.map(Int64.init), to: "/timing/voxels")
        for phase in Phase.allCases { try file.write(seconds(phase), to: "/timing/\(phase.name)_s") }
        try file.write(bytesRead.map(Int64.init), to: "/timing/bytes_read")
        try file.write(bytesWritten.map(Int64.init), to: "/timing/bytes_written")
        try file.setAttribute("imbalance", [imbalance], on: "/timing")
        try file.setAttribute("note", "seconds and bytes per rank; read: headers, mask counts and this rank's slabs; "
                              + "write: this rank's planes of every output (rank 0 also /map)", on: "/timing")
        if let floor {
            for (name, value) in floor.fields { try file.setAttribute("io_floor_\(name)", [value], on: "/timing") }
        }
    }

    /// The same table as JSON, to `path` in `outputs`.
    func writeJSON(to path: String, threads: Int, in outputs: OutputFiles) throws {
        var ranks: [[String: Any]] = []
        for r in rows.indices {
            var entry: [String: Any] = ["rank": r, "z_start": zStart[r], "z_end": zEnd[r], "voxels": voxelCounts[r],
                                        "bytes_read": bytesRead[r], "bytes_written": bytesWritten[r]]
            for phase in Phase.allCases { entry["\(phase.name)_s"] = seconds(phase)[r] }
            ranks.append(entry)
        }
        var document: [String: Any] = ["ranks": rows.count, "threads_per_rank": threads, "voxels": voxels,
                                       "imbalance": imbalance, "timing": ranks]
        if let floor { document["io_floor"] = Dictionary(uniqueKeysWithValues: floor.fields) }
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
        try outputs.write(Array(data), to: path)
    }
}
