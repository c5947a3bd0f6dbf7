import Foundation
import Testing
import TestSupport
import LocScaleCore

/// The `localscale` binary run as a user runs it: exit codes, exact error lines, outputs.
@Suite("localscale command line")
struct CLITests {
    static let fixtures: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/data").path

    /// The binary under test: $LOCALSCALE_BIN (set by `./cmake-free-build.sh test` to the release
    /// build), else the debug build next to the tests.
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["LOCALSCALE_BIN"] { return path }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/localscale").path
    }()

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs `/usr/bin/timeout LIMIT executable arguments` in `directory` with `environment`
    /// (inherited OMPI_/PMIX_/SLURM_ variables removed, the user's FFTW wisdom cache off), so a
    /// hang fails the test instead of stalling CI.
    static func launch(_ executable: String, _ arguments: [String], in directory: String = fixtures,
                       environment extra: [String: String] = [:], limit: Int = 120) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["\(limit)", executable] + arguments
        var environment = ProcessInfo.processInfo.environment.filter { variable in
            !["OMPI_", "PMIX_", "SLURM_"].contains { variable.key.hasPrefix($0) }
        }
        environment["LOCALSCALE_FFTW_WISDOM"] = "none"
        environment.merge(extra) { $1 }
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Runs the binary in `directory` (default: the fixtures).
    static func run(_ arguments: [String], in directory: String = fixtures) throws -> Result {
        try launch(binary, arguments, in: directory)
    }

    /// Environment that lets root run mpirun with more ranks than cores.
    static let mpiEnvironment = ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                                 "OMPI_MCA_rmaps_base_oversubscribe": "1"]

    /// `scale` of `em` to `model` with `mask` (a file or "none"), quiet.
    static func scale(_ extra: [String], em: String = "em.mrc", model: String = "model.mrc",
                      mask: String = "mask.mrc", out: String) throws -> Result {
        try run(["scale", "--em", em, "--model-map", model, "--mask", mask, "--out", out, "--quiet"] + extra)
    }

    /// The data bytes of an MRC file (labels hold the command line, so headers differ).
    static func dataBytes(_ path: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: path)).dropFirst(1024)
    }

    @Test("scale writes the oracle's map with the input geometry, and says what it did")
    func scaleMatchesOracle() throws {
        let scratch = Scratch()
        let result = try Self.run(["scale", "--em", "em.mrc", "--model-map", "model.mrc", "--mask", "mask.mrc",
                                   "--window", "8", "--pad-factor", "1", "--out", scratch.file("out.mrc")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("localscale: scaled 2474 voxels in"))
        let output = try MRCFile.read(path: scratch.file("out.mrc"))
        let expected = try MRCFile.read(path: Self.fixtures + "/expected_exact_w8_pad1.mrc")
        #expect(output.volume.grid == expected.volume.grid)
        #expect(output.header.origin == XYZ(-7.5, 3.0, 12.25))
        #expect(output.header.labels.joined().hasPrefix("localscale 0.1.0: scale --em em.mrc"))
        let mask = try MRCFile.read(path: Self.fixtures + "/mask.mrc").volume.values
        #expect(relativeRMS(output.volume.values, expected.volume.values, where: { mask[$0] >= 0.5 }) < 1e-4)
    }

    @Test("--threads 1 and --threads 2 give bitwise identical maps (runs sharing FFTW wisdom)",
          arguments: ["1", "2", "locscale2"])
    func threadsAreBitwiseIdentical(padFactor: String) throws {
        let scratch = Scratch()
        let rule = padFactor == "locscale2" ? ["--compat", "locscale2"] : ["--pad-factor", padFactor]
        for threads in ["1", "2"] {
            let result = try Self.scale(["--window", "8", "--threads", threads, "--fftw-wisdom", scratch.file("wisdom")] + rule,
                                        out: scratch.file("t\(threads).mrc"))
            #expect(result.status == 0, "\(result.stderr)")
        }
        let one = try Self.dataBytes(scratch.file("t1.mrc")), two = try Self.dataBytes(scratch.file("t2.mrc"))
        #expect(one == two)
    }

    @Test("a map in another axis order gives the same values and keeps its axis order")
    func permutedAxisOrder() throws {
        let scratch = Scratch()
        for name in ["em", "model", "mask"] {
            var volume = try MRCFile.read(path: Self.fixtures + "/\(name).mrc").volume
            volume.grid.axisOrder = [3, 1, 2]
            try MRCFile.write(volume, to: scratch.file("\(name)_zxy.mrc"), labels: [])
        }
        // Both runs share FFTW wisdom: fresh patient plans may differ in the last bit.
        let permuted = try Self.scale(["--window", "8", "--fftw-wisdom", scratch.file("wisdom")], em: scratch.file("em_zxy.mrc"),
                                      model: scratch.file("model_zxy.mrc"), mask: scratch.file("mask_zxy.mrc"),
                                      out: scratch.file("out_zxy.mrc"))
        #expect(permuted.status == 0, "\(permuted.stderr)")
        let plain = try Self.scale(["--window", "8", "--fftw-wisdom", scratch.file("wisdom")], out: scratch.file("out.mrc"))
        #expect(plain.status == 0)
        let a = try MRCFile.read(path: scratch.file("out_zxy.mrc")), b = try MRCFile.read(path: scratch.file("out.mrc"))
        #expect(a.header.axisOrder == [3, 1, 2])
        #expect(a.volume.values == b.volume.values)
    }

    @Test("--progress prints a progress line on stderr when it is not a terminal")
    func progress() throws {
        let scratch = Scratch()
        let result = try Self.run(["scale", "--em", "em.mrc", "--model-map", "model.mrc", "--mask", "mask.mrc",
                                   "--window", "8", "--progress", "--out", scratch.file("out.mrc")])
        #expect(result.status == 0)
        #expect(result.stderr.contains("scaling: 100 % (2474/2474 voxels), "))
        #expect(result.stderr.contains(" voxels/s, ETA 0:00:00\n"))
        let quiet = try Self.scale(["--window", "8"], out: scratch.file("quiet.mrc"))
        #expect(quiet.stderr.isEmpty)
    }

    @Test("info prints the geometry")
    func info() throws {
        let result = try Self.run(["info", "iota_axes_312.mrc"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("shape (x,y,z)  5 × 4 × 3 voxels (60 in all)"))
        #expect(result.stdout.contains("voxel size     1 × 1.5 × 2 Å"))
        #expect(result.stdout.contains("nstart (x,y,z) 1, 2, 3"))
        #expect(result.stdout.contains("axis order     ZXY (MAPC/MAPR/MAPS = 3,1,2)"))
    }

    @Test("--help and --version print to stdout and exit 0")
    func help() throws {
        for arguments in [["--help"], ["scale", "--help"], ["--version"]] {
            let result = try Self.run(arguments)
            #expect(result.status == 0, "\(arguments)")
            #expect(result.stderr.isEmpty, "\(arguments)")
        }
        let scaleHelp = try Self.run(["scale", "--help"]).stdout
        #expect(scaleHelp.contains("--pad-factor <factor>"))
        // Options under titles, in this order, each holding its own options.
        let titles = ["INPUTS:", "METHOD:", "OUTPUTS:", "PERFORMANCE:"].map { scaleHelp.range(of: $0)?.lowerBound }
        #expect(titles.allSatisfy { $0 != nil } && titles.map { $0! } == titles.map { $0! }.sorted())
        for (option, before) in [("--em <map.mrc>", 1), ("--method <method>", 2), ("--hdf5 <out.h5>", 3)] {
            let at = scaleHelp.range(of: option)?.lowerBound
            #expect(at != nil && titles[before - 1].map { $0 < at! } == true && titles[before].map { at! < $0 } == true)
        }
        #expect(scaleHelp.contains("first look at a big"))
        #expect(try Self.run(["--version"]).stdout.hasPrefix("localscale 0.1.0 (commit "))
    }

    @Test("bad usage exits 2")
    func badUsage() throws {
        let missing = try Self.run(["scale", "--em", "em.mrc", "--model-map", "model.mrc"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("Error: give --out OUT.mrc, --hdf5 OUT.h5, or both"))
        let pad = try Self.run(["scale", "--em", "em.mrc", "--model-map", "model.mrc", "--out", "/tmp/x.mrc", "--pad-factor", "0.5"])
        #expect(pad.status == 2)
        #expect(pad.stderr.contains("Error: --pad-factor 0.5: must be between 1 and 8"))
    }
}

/// A scratch folder removed when the test ends.
final class Scratch: Sendable {
    let path = NSTemporaryDirectory() + "localscale-cli-" + UUID().uuidString
    init() { try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }
}
