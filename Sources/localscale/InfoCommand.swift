import ArgumentParser
import LocScaleCore
import LocScaleEngine
import Logging

/// `localscale info FILE`: the header facts a user needs, and the statistics of the data.
/// A geometry the other commands refuse (voxel size, origin, cell angles) is shown, with a
/// warning line on stderr; a file that cannot be read as a map is an error.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Print the geometry and statistics of an MRC/CCP4 map.")

    @Argument(help: "MRC/CCP4 map file(s).")
    var files: [String]

    func run() throws {
        let logger = makeLogger(quiet: false)
        for (n, path) in files.enumerated() {
            if n > 0 { print("") }
            let map = try MRCFile.read(path: path, geometry: .warn)
            map.header.warnings.forEach { logger.warning("\($0)") }
            print(MapReport(path: path, map: map).text)
        }
    }
}

/// The lines `localscale info` prints for one map.
struct MapReport {
    let path: String
    let map: MRCMap

    var text: String {
        let h = map.header, g = map.volume.grid, s = map.volume.statistics
        let axes = g.axisOrder.map { ["X", "Y", "Z"][$0 - 1] }.joined()
        let position = g.firstVoxelPosition
        func f(_ x: Double) -> String { formatDecimal(x) }
        var lines = [
            "file           \(path)",
            "shape (x,y,z)  \(g.shape.x) × \(g.shape.y) × \(g.shape.z) voxels (\(g.voxelCount) in all)",
            "voxel size     \(f(g.voxelSize.x)) × \(f(g.voxelSize.y)) × \(f(g.voxelSize.z)) Å",
            "origin         \(f(g.origin.x)), \(f(g.origin.y)), \(f(g.origin.z)) Å (ORIGIN field)",
            "nstart (x,y,z) \(g.start.x), \(g.start.y), \(g.start.z)",
            "first voxel at \(f(position.x)), \(f(position.y)), \(f(position.z)) Å",
            "axis order     \(axes) (MAPC/MAPR/MAPS = \(h.mapc),\(h.mapr),\(h.maps))",
            "mode           \(MRCMode(rawValue: h.mode)!.label), \(h.littleEndian ? "little" : "big")-endian",
            "cell           \(f(Double(h.cellLengths.x))) × \(f(Double(h.cellLengths.y))) × \(f(Double(h.cellLengths.z))) Å, "
                + "sampling \(g.sampling.x) × \(g.sampling.y) × \(g.sampling.z), space group \(h.spaceGroup)",
            "ext. header    \(h.extendedHeaderBytes) bytes",
            "data           min \(f(Double(s.minimum))), max \(f(Double(s.maximum))), mean \(f(s.mean)), rms \(f(s.rms))",
            "header stats   min \(f(Double(h.dmin))), max \(f(Double(h.dmax))), mean \(f(Double(h.dmean))), rms \(f(Double(h.rms)))",
        ]
        for (i, label) in h.labels.enumerated() { lines.append("label \(i)        \(label)") }
        return lines.joined(separator: "\n")
    }
}
