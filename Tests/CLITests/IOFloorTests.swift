import Foundation
import Testing
import LocScaleCore
import LocScaleHDF5

/// `scale --io-floor`: rank 0 times a plain read of the input maps and a write + fsync of the
/// bytes the run wrote, and prints the floor beside the run's I/O bandwidth.
@Suite("the I/O floor of scale", .serialized)
struct IOFloorTests {
    static let inputs = ["em.mrc", "model.mrc", "mask.mrc"]

    /// `scale` of the fixture on `ranks` ranks into `scratch` (map, HDF5, timings JSON).
    static func scale(_ ranks: Int, in scratch: Scratch, floor: Bool) throws -> CLITests.Result {
        try MPITests.mpirun(ranks, ["scale", "--em", "em.mrc", "--model-map", "model.mrc", "--mask", "mask.mrc",
                                    "--window", "8", "--threads", "1", "--fft-planning", "estimate",
                                    "--out", scratch.file("out.mrc"), "--hdf5", scratch.file("out.h5"),
                                    "--timings-json", scratch.file("timings.json")] + (floor ? ["--io-floor"] : []))
    }

    /// The "I/O:" line the run printed.
    static func ioLine(_ result: CLITests.Result) -> [String] {
        result.stderr.split(separator: "\n").filter { $0.hasPrefix("localscale: I/O:") }.map(String.init)
    }

    /// The line rebuilt from `/timing`: all bytes over the slowest rank's phase, MB/s rounded.
    static func expectedLine(_ file: HDF5Reader, floor: (read: Double, write: Double)?) throws -> String {
        let read = try file.integers("/timing/bytes_read").reduce(0, +)
        let written = try file.integers("/timing/bytes_written").reduce(0, +)
        let readRate = Double(read) / (try file.doubles("/timing/read_s").max()!) / 1e6
        let writeRate = Double(written) / (try file.doubles("/timing/write_s").max()!) / 1e6
        func rate(_ run: Double, _ floor: Double?) -> String {
            "\(formatDecimal(run, digits: 0)) MB/s" + (floor.map { "; floor \(formatDecimal($0, digits: 0)) MB/s" } ?? "")
        }
        return "localscale: I/O: read \(formatDecimal(Double(read) / 1e6, digits: 1)) MB (\(rate(readRate, floor?.read))), "
            + "wrote \(formatDecimal(Double(written) / 1e6, digits: 1)) MB (\(rate(writeRate, floor?.write))) over all ranks"
    }

    @Test("--io-floor: the line with both floors exactly, /timing and JSON hold the measurement, no temporary left",
          arguments: [1, 2])
    func floorMeasured(ranks: Int) throws {
        let scratch = Scratch()
        let result = try Self.scale(ranks, in: scratch, floor: true)
        #expect(result.status == 0, "\(result.stderr)")
        let file = try HDF5Reader(path: scratch.file("out.h5"))
        let attribute = { (name: String) in try file.doubles(attribute: "io_floor_\(name)", of: "/timing") }
        let floor = (read: try attribute("read_mb_s")[0], write: try attribute("write_mb_s")[0])
        #expect(Self.ioLine(result) == [try Self.expectedLine(file, floor: floor)], "\(result.stderr)")
        // Every input map once, whole; as many bytes as all ranks wrote.
        let sizes = try Self.inputs.map { try FileManager.default.attributesOfItem(
            atPath: CLITests.fixtures + "/" + $0)[.size] as! Int }
        #expect(try attribute("read_bytes") == [Double(sizes.reduce(0, +))])
        #expect(try attribute("write_bytes") == [Double(try file.integers("/timing/bytes_written").reduce(0, +))])
        #expect(try attribute("read_s")[0] > 0 && attribute("write_s")[0] > 0)
        #expect(floor.read > 0 && floor.write > 0)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: scratch.file("timings.json"))))
        let fields = (json as? [String: Any])?["io_floor"] as? [String: Double]
        // (JSONSerialization prints doubles to about 15 digits.)
        let near = { (a: Double?, b: Double) in a.map { abs($0 - b) <= 1e-12 * b } ?? false }
        #expect(near(fields?["read_mb_s"], floor.read) && near(fields?["write_mb_s"], floor.write), "\(json)")
        #expect(fields?.keys.sorted() == ["read_bytes", "read_mb_s", "read_s", "write_bytes", "write_mb_s", "write_s"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted()
                == ["out.h5", "out.mrc", "timings.json"])
    }

    @Test("without --io-floor: the line without floors exactly, no floor in /timing or JSON")
    func noFloor() throws {
        let scratch = Scratch()
        let result = try Self.scale(2, in: scratch, floor: false)
        #expect(result.status == 0, "\(result.stderr)")
        let file = try HDF5Reader(path: scratch.file("out.h5"))
        #expect(Self.ioLine(result) == [try Self.expectedLine(file, floor: nil)], "\(result.stderr)")
        #expect(throws: (any Error).self) { try file.doubles(attribute: "io_floor_read_mb_s", of: "/timing") }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: scratch.file("timings.json"))))
        #expect((json as? [String: Any])?["io_floor"] == nil)
    }

    @Test("a floor file left by a killed run is removed by the next --io-floor run")
    func staleFloorFileRemoved() throws {
        let scratch = Scratch()
        // A process id that is not running (the highest possible is far above any live one here).
        let stale = scratch.file("out.mrc.io-floor.tmp-4194000")
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: stale))
        let result = try Self.scale(1, in: scratch, floor: true)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted()
                == ["out.h5", "out.mrc", "timings.json"])
    }
}
