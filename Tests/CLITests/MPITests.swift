import Foundation
import Testing
import LocScaleCore
import LocScaleHDF5

/// `mpirun -np N localscale scale …` on the built binary: the same map as one process, bit for
/// bit, for every N; the same error and exit status for every N. Each mpirun runs under a
/// timeout, so a hang fails the test instead of stalling CI.
@Suite("mpirun", .serialized)
struct MPITests {
    static let ranks = [1, 2, 3, 4, 8]

    /// Runs `mpirun -np ranks localscale ARGUMENTS` in the fixtures folder (90 s limit).
    static func mpirun(_ ranks: Int, _ arguments: [String], environment extra: [String: String] = [:]) throws -> CLITests.Result {
        try CLITests.launch("mpirun", ["-np", "\(ranks)", CLITests.binary] + arguments,
                            environment: CLITests.mpiEnvironment.merging(extra) { $1 }, limit: 90)
    }

    @Test("N ranks write the 1-rank map bit for bit (non-cubic, origin, mask on the box edge)",
          arguments: ["2", "locscale2"])
    func sameMapForEveryRankCount(rule: String) throws {
        let scratch = Scratch()
        let wisdom = scratch.file("wisdom")
        let ruleArguments = rule == "locscale2" ? ["--compat", "locscale2"] : ["--pad-factor", rule]
        var reference: Data?
        for n in Self.ranks {
            let out = scratch.file("np\(n).mrc")
            let result = try Self.mpirun(n, ["scale", "--em", "em.mrc", "--model-map", "model.mrc", "--mask", "mask.mrc",
                                             "--window", "8", "--threads", "1", "--fftw-wisdom", wisdom, "--out", out] + ruleArguments)
            #expect(result.status == 0, "np \(n): \(result.stderr)")
            let data = try CLITests.dataBytes(out)
            if let reference { #expect(data == reference, "np \(n) differs from np 1") } else { reference = data }
            if n > 1 {
                #expect(result.stderr.contains("per-rank seconds:"))
                #expect(result.stderr.contains("localscale: scaled 2474 voxels in"))
            }
        }
        let expected = try MRCFile.read(path: CLITests.fixtures + "/" + (rule == "locscale2" ? "expected_compat_w8.mrc" : "expected_exact_w8_pad2.mrc"))
        let output = try MRCFile.read(path: scratch.file("np8.mrc"))
        #expect(output.volume.grid == expected.volume.grid)
    }

    @Test("a bad input gives the same line and exit 1 from every rank count, and no output")
    func sameErrorForEveryRankCount() throws {
        let scratch = Scratch()
        for n in Self.ranks {
            let out = scratch.file("bad\(n).mrc")
            let result = try Self.mpirun(n, ["scale", "--em", "em.mrc", "--model-map", "b_model.mrc", "--mask", "mask.mrc",
                                             "--window", "8", "--out", out])
            #expect(result.status == 1, "np \(n)")
            let lines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("localscale:") }
            #expect(lines == ["localscale: error: b_model.mrc: shape 19×21×16 voxels differs from em.mrc's 22×18×20 voxels"], "np \(n): \(result.stderr) / \(result.stdout)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }

    @Test("--hdf5 holds the map, one /timing row per rank with all voxels, and provenance; JSON the same",
          arguments: [1, 3, 8])
    func hdf5Output(ranks: Int) throws {
        let scratch = Scratch()
        let result = try Self.mpirun(ranks, ["scale", "--em", "em.mrc", "--model-map", "model.mrc", "--mask", "mask.mrc",
                                             "--window", "8", "--threads", "1", "--fftw-wisdom", scratch.file("wisdom"),
                                             "--out", scratch.file("out.mrc"), "--hdf5", scratch.file("out.h5"),
                                             "--timings-json", scratch.file("t.json")])
        #expect(result.status == 0, "\(result.stderr)")
        let file = try HDF5Reader(path: scratch.file("out.h5"))
        #expect(try file.shape(of: "/map") == [20, 18, 22])
        #expect(try file.floats("/map") == MRCFile.read(path: scratch.file("out.mrc")).volume.values)
        let voxels = try file.integers("/timing/voxels")
        #expect(voxels.count == ranks)
        #expect(voxels.reduce(0, +) == 2474)
        #expect(try file.integers("/timing/rank") == (0..<ranks).map(Int64.init))
        // The ranks' planes tile the box (rank 0's need not come first: ExactSlabPlan).
        let zStart = try file.integers("/timing/z_start"), zEnd = try file.integers("/timing/z_end")
        let slabs = zip(zStart, zEnd).map { Int($0) ..< Int($1) }.filter { !$0.isEmpty }
            .sorted { $0.lowerBound < $1.lowerBound }
        #expect(slabs.first?.lowerBound == 0 && slabs.last?.upperBound == 20, "\(slabs)")
        #expect(zip(slabs, slabs.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound }, "\(slabs)")
        #expect(try file.doubles("/timing/compute_s").allSatisfy { $0 >= 0 })
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: scratch.file("t.json")))) as! [String: Any]
        #expect(json["ranks"] as? Int == ranks)
        #expect(json["voxels"] as? Int == 2474)
        #expect((json["timing"] as? [[String: Any]])?.count == ranks)
    }

    @Test("a rank that dies mid-run ends the job non-zero within seconds, leaving no output")
    func rankDies() throws {
        let scratch = Scratch()
        let start = Date()
        let result = try Self.mpirun(3, ["scale", "--em", "em.mrc", "--model-map", "model.mrc", "--mask", "mask.mrc",
                                         "--window", "8", "--threads", "1", "--out", scratch.file("out.mrc"),
                                         "--hdf5", scratch.file("out.h5")],
                                     environment: ["LOCALSCALE_TEST_KILL_RANK": "1"])
        #expect(result.status != 0 && result.status != 124, "status \(result.status): \(result.stderr)")
        #expect(Date().timeIntervalSince(start) < 30)
        #expect(result.stderr.contains("rank 1 exits"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
    }

    @Test("simulate on N ranks (plane and column transforms of the fine grid) writes the 1-rank model map bit for bit",
          arguments: [2, 3, 4, 5, 8])
    func simulateOnRanks(ranks: Int) throws {
        let scratch = Scratch()
        for n in [1, ranks] {
            let result = try Self.mpirun(n, ["simulate", "--model", "../models/sim_small.pdb", "--like", "sim_grid.mrc",
                                             "--resolution", "2", "--threads", "1", "--out", scratch.file("np\(n).mrc")])
            #expect(result.status == 0, "np \(n): \(result.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: scratch.file("np1.mrc")))
                == Data(contentsOf: URL(fileURLWithPath: scratch.file("np\(ranks).mrc"))), "\(ranks) ranks vs 1")
        let map = try MRCFile.read(path: scratch.file("np\(ranks).mrc")).volume.values
        let expected = try MRCFile.read(path: CLITests.fixtures + "/sim_expected_d2.mrc").volume.values
        let maximum = expected.map { abs($0) }.max()!
        #expect(zip(map, expected).map { abs($0 - $1) }.max()! / maximum < 1e-4)
    }

    @Test("scale --model on 1 and 3 ranks: the model map is simulated by all ranks, the outputs are identical")
    func scaleWithModelOnRanks() throws {
        let scratch = Scratch()
        for n in [1, 3] {
            let result = try Self.mpirun(n, ["scale", "--em", "sim_grid.mrc", "--model", "../models/sim_small.pdb", "--mask", "none",
                                             "--resolution", "2", "--window", "8", "--pad-factor", "1", "--threads", "1",
                                             "--fftw-wisdom", scratch.file("wisdom"), "--out", scratch.file("np\(n).mrc"),
                                             "--save-model-map", scratch.file("model\(n).mrc")])
            #expect(result.status == 0, "np \(n): \(result.stderr)")
        }
        let expected = try MRCFile.read(path: CLITests.fixtures + "/sim_expected_d2.mrc").volume.values
        let model = try MRCFile.read(path: scratch.file("model3.mrc")).volume.values
        let maximum = expected.map { abs($0) }.max()!
        #expect(zip(model, expected).map { abs($0 - $1) }.max()! / maximum < 1e-4)
        #expect(try CLITests.dataBytes(scratch.file("np1.mrc")) == CLITests.dataBytes(scratch.file("np3.mrc")))
    }

    @Test("validate on 3 ranks (FFTW-MPI shell sums) gives the 1-rank summary")
    func validateOnRanks() throws {
        let scratch = Scratch()
        for n in [1, 3] {
            let result = try Self.mpirun(n, ["validate", "--map", "val_b.mrc", "--model-map", "val_a.mrc", "--mask", "val_mask.mrc",
                                             "--half-maps", "val_half1.mrc", "val_half2.mrc", "--report", scratch.file("r\(n)")])
            #expect(result.status == 0, "np \(n): \(result.stderr)")
        }
        let one = try ValidateTests.summary(scratch.file("r1")), three = try ValidateTests.summary(scratch.file("r3"))
        for key in ["fsc_map_model_0.5_resolution_A", "fsc_map_model_masked_0.5_resolution_A", "half_map_fsc_0.143_resolution_A", "rscc_mask"] {
            let a = one[key] as! Double, b = three[key] as! Double
            #expect(abs(a - b) <= 1e-9 * abs(a), "\(key): \(a) vs \(b)")
        }
    }
}
