import Foundation
import LocScaleCore
import LocScaleHDF5

/// Seconds one rank spent in each phase of a run, its planes and the voxels it scaled.
struct RankTimings {
    /// Seconds per phase, indexed by `Phase.rawValue`.
    var seconds = [Double](repeating: 0, count: Phase.allCases.count)
    var voxels = 0
    var planes = 0 ..< 0

    /// Flattened for `allGather`: the phase seconds, voxels, first plane, end plane.
    var row: [Double] { seconds + [Double(voxels), Double(planes.lowerBound), Double(planes.upperBound)] }
    static var rowLength: Int { Phase.allCases.count + 3 }
}

/// Every rank's timings, as gathered: printed by rank 0, stored in HDF5 `/timing` and as JSON.
public struct TimingTable: Sendable {
    /// `rows[r]` = rank r's `RankTimings.row`.
    public let rows: [[Double]]

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

    /// max/mean compute seconds over the ranks (1 = balanced).
    public var imbalance: Double {
        let mean = compute.reduce(0, +) / Double(max(compute.count, 1))
        return mean > 0 ? compute.max()! / mean : 1
    }

    /// The table as rank 0 prints it.
    public var text: String {
        var lines = ["rank  planes        voxels     read  scatter     halo  compute   gather    write"]
        for r in rows.indices {
            let planes = "\(zStart[r])..<\(zEnd[r])".padding(toLength: 12, withPad: " ", startingAt: 0)
            let phases = Phase.allCases.map { String(format: "%8.2f", seconds($0)[r]) }.joined(separator: " ")
            lines.append(String(format: "%4d  ", r) + planes + String(format: "%8d ", voxelCounts[r]) + phases)
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
        try file.setAttribute("imbalance", [imbalance], on: "/timing")
        try file.setAttribute("note", "seconds per rank; write is rank 0's MRC and /map writing", on: "/timing")
    }

    /// The same table as JSON, to `path` in `outputs`.
    func writeJSON(to path: String, threads: Int, in outputs: OutputFiles) throws {
        var ranks: [[String: Any]] = []
        for r in rows.indices {
            var entry: [String: Any] = ["rank": r, "z_start": zStart[r], "z_end": zEnd[r], "voxels": voxelCounts[r]]
            for phase in Phase.allCases { entry["\(phase.name)_s"] = seconds(phase)[r] }
            ranks.append(entry)
        }
        let document: [String: Any] = ["ranks": rows.count, "threads_per_rank": threads, "voxels": voxels,
                                       "imbalance": imbalance, "timing": ranks]
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
        try outputs.write(Array(data), to: path)
    }
}
