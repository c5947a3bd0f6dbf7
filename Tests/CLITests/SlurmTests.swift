import Foundation
import Testing
import LocScaleHDF5

/// The sbatch scripts outside a scheduler (SlurmJobTests submits them to a real one): each one is
/// checked with `bash -n` and run as a batch job would run it, with the SLURM variables set by hand
/// (it then launches with mpirun), and its outputs are read back.
@Suite("slurm scripts", .serialized)
struct SlurmTests {
    static let slurm = URL(fileURLWithPath: CLITests.fixtures).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("slurm").path

    /// Runs `bash SCRIPT` as the batch system would, the inputs and SLURM variables set by hand.
    static func runScript(_ name: String, _ variables: [String: String]) throws -> CLITests.Result {
        let inputs = ["LOCALSCALE": CLITests.binary, "EM": CLITests.fixtures + "/em.mrc",
                      "MODEL": CLITests.fixtures + "/model.mrc", "MASK": CLITests.fixtures + "/mask.mrc",
                      "EXTRA": "--window 8 --fftw-wisdom none"]
        return try CLITests.launch("bash", [slurm + "/" + name],
                                   environment: CLITests.mpiEnvironment.merging(inputs) { $1 }.merging(variables) { $1 })
    }

    @Test("every script parses", arguments: ["localscale.sbatch", "localscale-multinode.sbatch", "scaling-study.sbatch",
                                            "localscale-array.sbatch", "local-cluster.sh"])
    func syntax(script: String) throws {
        #expect(try CLITests.launch("bash", ["-n", Self.slurm + "/" + script]).status == 0)
    }

    @Test("one node: ranks from SLURM_NTASKS, threads from SLURM_CPUS_PER_TASK")
    func oneNode() throws {
        let scratch = Scratch()
        let result = try Self.runScript("localscale.sbatch", ["SLURM_NTASKS": "2", "SLURM_CPUS_PER_TASK": "1",
                                                              "OUT": scratch.file("out.mrc")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("2 rank(s) × 1 thread(s)"))
        #expect(try HDF5Reader(path: scratch.file("out.h5")).integers("/timing/voxels").reduce(0, +) == 2474)
        #expect(FileManager.default.fileExists(atPath: scratch.file("out.mrc")))
    }

    @Test("several nodes: ranks = nodes × tasks per node")
    func multiNode() throws {
        let scratch = Scratch()
        let result = try Self.runScript("localscale-multinode.sbatch", ["SLURM_NNODES": "1", "SLURM_NTASKS_PER_NODE": "3",
                                                                        "SLURM_CPUS_PER_TASK": "1", "OUT": scratch.file("out.mrc")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try HDF5Reader(path: scratch.file("out.h5")).integers("/timing/rank") == [0, 1, 2])
    }

    @Test("scaling study: array task i runs RANK_COUNTS[i] ranks into its own HDF5 file")
    func scalingStudy() throws {
        let scratch = Scratch()
        for task in 0..<2 {
            let result = try Self.runScript("scaling-study.sbatch", ["SLURM_ARRAY_TASK_ID": "\(task)", "RANK_COUNTS": "1 3",
                                                                     "SLURM_CPUS_PER_TASK": "1", "STUDY": scratch.file("study")])
            #expect(result.status == 0, "\(result.stderr)")
        }
        #expect(try HDF5Reader(path: scratch.file("study/ranks-1.h5")).integers("/timing/rank").count == 1)
        #expect(try HDF5Reader(path: scratch.file("study/ranks-3.h5")).integers("/timing/rank").count == 3)
    }

    @Test("map array: a list line per task; a task beyond the list or a short line is one error line")
    func mapArrayErrors() throws {
        let scratch = Scratch()
        try "# EM MODEL MASK\n\nem.mrc model.mrc mask.mrc\nonly-one.mrc\n".write(toFile: scratch.file("maps.txt"), atomically: true,
                                                                               encoding: .utf8)
        let cases = [("2", "\(scratch.file("maps.txt")): line 2 (only-one.mrc): expected EM MODEL [MASK]\n"),
                     ("3", "\(scratch.file("maps.txt")): has no map for array task 3\n")]
        for (task, error) in cases {
            let result = try CLITests.launch("bash", [Self.slurm + "/localscale-array.sbatch"],
                                             environment: ["LIST": scratch.file("maps.txt"), "SLURM_ARRAY_TASK_ID": task])
            #expect(result.status == 1)
            #expect(result.stderr == error)
        }
        let missing = try CLITests.launch("bash", [Self.slurm + "/localscale-array.sbatch"], environment: ["LIST": scratch.file("none.txt")])
        #expect(missing.stderr == "\(scratch.file("none.txt")): cannot read the list of maps\n")
    }

    @Test("map array outside slurm: task 1 scales the first map of the list into OUTDIR")
    func mapArrayByHand() throws {
        let scratch = Scratch()
        let f = CLITests.fixtures
        try "\(f)/em.mrc \(f)/model.mrc \(f)/mask.mrc\n".write(toFile: scratch.file("maps.txt"), atomically: true, encoding: .utf8)
        let result = try Self.runScript("localscale-array.sbatch", ["LIST": scratch.file("maps.txt"), "OUTDIR": scratch.file("out"),
                                                                    "SLURM_ARRAY_TASK_ID": "1", "SLURM_CPUS_PER_TASK": "1"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try HDF5Reader(path: scratch.file("out/em-scaled.h5")).integers("/timing/voxels").reduce(0, +) == 2474)
        #expect(FileManager.default.fileExists(atPath: scratch.file("out/em-scaled.mrc")))
    }
}
