import Foundation
import Testing
import LocScaleCore
import LocScaleHDF5

/// The one-node cluster of `slurm/local-cluster.sh` (CI starts it before the tests), found through
/// `$LOCALSCALE_SLURM_DIR/slurm.conf` (default /tmp/localscale-slurm).
enum SlurmCluster {
    static let configuration = (ProcessInfo.processInfo.environment["LOCALSCALE_SLURM_DIR"] ?? "/tmp/localscale-slurm")
        + "/slurm.conf"
    static let environment = ["SLURM_CONF": configuration]

    /// Why no job can be submitted, or nil when the cluster's node answers idle, mixed or allocated.
    static let unavailable: String? = {
        guard FileManager.default.fileExists(atPath: configuration) else {
            return "no Slurm cluster: \(configuration) does not exist (start one: slurm/local-cluster.sh up)"
        }
        guard let sinfo = try? CLITests.launch("sinfo", ["-h", "-N", "-o", "%T"], environment: environment, limit: 10),
              sinfo.status == 0 else {
            return "no Slurm cluster answers with \(configuration) (start one: slurm/local-cluster.sh up)"
        }
        let state = sinfo.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return ["idle", "mixed", "allocated"].contains(state) ? nil : "the Slurm node is '\(state)', not idle"
    }()

    /// The end of one job (or array task) as `scontrol show job -o` reports it.
    struct Outcome: Equatable, CustomStringConvertible {
        var state: String
        var exitCode: String
        var description: String { "\(state) \(exitCode)" }
    }

    /// `sbatch --parsable OPTIONS SCRIPT` in `directory`, the job's variables passed through the
    /// environment (`--export=ALL`); returns the job id.
    static func submit(_ script: String, _ options: [String], variables: [String: String] = [:],
                       in directory: String) throws -> String {
        let result = try CLITests.launch("sbatch", ["--parsable", "--export=ALL"] + options + [script], in: directory,
                                         environment: environment.merging(variables) { $1 }, limit: 30)
        guard result.status == 0, let id = result.stdout.split(separator: ";").first.map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }),
              !id.isEmpty else {
            throw SubmitError(message: "sbatch \(script): \(result.stderr)")
        }
        return id
    }

    struct SubmitError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// Polls `scontrol show job -o ID` every 0.1 s until every task of the job has ended (at most
    /// `limit` seconds, then cancels it); returns the outcome of each task in the order scontrol gives.
    static func wait(for job: String, limit: Double = 60) throws -> [Outcome] {
        let deadline = Date().addingTimeInterval(limit)
        while true {
            let outcomes = try show(job)
            let running = ["PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED"]
            if !outcomes.isEmpty && !outcomes.contains(where: { running.contains($0.state) }) { return outcomes }
            if Date() > deadline {
                _ = try CLITests.launch("scancel", [job], environment: environment, limit: 10)
                throw SubmitError(message: "job \(job) still \(outcomes) after \(limit) s: cancelled")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// The state and exit code of each task of `job` now.
    static func show(_ job: String) throws -> [Outcome] {
        let result = try CLITests.launch("scontrol", ["show", "job", "-o", job], environment: environment, limit: 10)
        return result.stdout.split(separator: "\n").map { line in
            func field(_ name: String) -> String {
                line.split(separator: " ").first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) } ?? "?"
            }
            return Outcome(state: field("JobState"), exitCode: field("ExitCode"))
        }
    }
}

/// Real jobs through the scheduler: the sbatch scripts of `slurm/` on the shipped fixture, with
/// ranks launched by `srun --mpi=pmix` or by `mpirun` inside the job. Every map is compared bit
/// for bit with a plain one-rank run sharing the same FFTW wisdom.
@Suite("slurm jobs", .serialized,
       .enabled(if: SlurmCluster.unavailable == nil, Comment(rawValue: SlurmCluster.unavailable ?? "cluster up")))
struct SlurmJobTests {
    static let completed = SlurmCluster.Outcome(state: "COMPLETED", exitCode: "0:0")

    /// A scratch folder with the plain run's map (`plain.mrc`, `plain.h5`) and its FFTW wisdom.
    struct Case {
        let scratch = Scratch()
        var wisdom: String { scratch.file("wisdom") }
        /// The job's inputs, as the scripts read them.
        var variables: [String: String] {
            ["LOCALSCALE": CLITests.binary, "EM": CLITests.fixtures + "/em.mrc", "MODEL": CLITests.fixtures + "/model.mrc",
             "MASK": CLITests.fixtures + "/mask.mrc", "EXTRA": "--window 8 --fftw-wisdom \(wisdom)"]
        }

        init() throws {
            let plain = try CLITests.scale(["--window", "8", "--fftw-wisdom", scratch.file("wisdom"),
                                            "--hdf5", scratch.file("plain.h5")], out: scratch.file("plain.mrc"))
            #expect(plain.status == 0, "\(plain.stderr)")
        }

        func log(_ name: String) throws -> String { try String(contentsOfFile: scratch.file(name), encoding: .utf8) }

        /// The map in `name`.h5 is the plain run's, bit for bit, and its /timing has `ranks` rows.
        func expectPlainMap(hdf5 name: String, ranks: Int) throws {
            let reader = try HDF5Reader(path: scratch.file(name))
            let plain = try HDF5Reader(path: scratch.file("plain.h5"))
            #expect(try reader.floats("/map").map(\.bitPattern) == plain.floats("/map").map(\.bitPattern), "\(name)")
            #expect(try reader.integers("/timing/rank") == (0..<Int64(ranks)).map { $0 }, "\(name)")
        }

        /// The map in `name`.mrc has the plain run's data bytes.
        func expectPlainMap(mrc name: String) throws {
            #expect(try CLITests.dataBytes(scratch.file(name)) == CLITests.dataBytes(scratch.file("plain.mrc")), "\(name)")
        }
    }

    @Test("localscale.sbatch: 2 tasks started by srun --mpi=pmix, or by mpirun inside the job, give the plain map",
          arguments: ["srun", "mpirun"])
    func oneNode(launcher: String) throws {
        let job = try Case()
        let variables = job.variables.merging(["OUT": "out.mrc", "LAUNCHER": launcher]) { $1 }
            .merging(CLITests.mpiEnvironment) { $1 }
        let id = try SlurmCluster.submit(SlurmTests.slurm + "/localscale.sbatch", ["--ntasks-per-node=2", "--cpus-per-task=1"],
                                         variables: variables, in: job.scratch.path)
        #expect(try SlurmCluster.wait(for: id) == [Self.completed])
        let log = try job.log("localscale-\(id).log")
        #expect(log.contains("localscale job \(id) on "), "\(log)")
        #expect(log.contains(": 2 rank(s) × 1 thread(s) via \(launcher)\n"), "\(log)")
        #expect(log.contains("localscale: scaled 2474 voxels in "), "\(log)")
        try job.expectPlainMap(mrc: "out.mrc")
        try job.expectPlainMap(hdf5: "out.h5", ranks: 2)
    }

    @Test("localscale-multinode.sbatch on one node: ranks = nodes × tasks per node, bound to sockets")
    func multiNode() throws {
        let job = try Case()
        let id = try SlurmCluster.submit(SlurmTests.slurm + "/localscale-multinode.sbatch",
                                         ["--nodes=1", "--ntasks-per-node=2", "--cpus-per-task=1"],
                                         variables: job.variables.merging(["OUT": "multi.mrc"]) { $1 }, in: job.scratch.path)
        #expect(try SlurmCluster.wait(for: id) == [Self.completed])
        let log = try job.log("localscale-multinode-\(id).log")
        #expect(log.contains(": 1 node(s), 2 rank(s) × 1 thread(s) via srun\n"), "\(log)")
        try job.expectPlainMap(mrc: "multi.mrc")
        try job.expectPlainMap(hdf5: "multi.h5", ranks: 2)
    }

    @Test("scaling-study.sbatch: an array over rank counts, then the summary in a job that depends on it")
    func scalingStudy() throws {
        let job = try Case()
        let variables = job.variables.merging(["RANK_COUNTS": "1 2", "STUDY": "study"]) { $1 }
        let id = try SlurmCluster.submit(SlurmTests.slurm + "/scaling-study.sbatch", ["--array=0-1", "--ntasks=2", "--cpus-per-task=1"],
                                         variables: variables, in: job.scratch.path)
        let collect = URL(fileURLWithPath: SlurmTests.slurm).deletingLastPathComponent().path + "/benchmarks/scaling-study"
        let summary = try SlurmCluster.submit("--wrap=\(collect) collect study",
                                              ["--dependency=afterok:\(id)", "--output=collect-%j.log"], in: job.scratch.path)
        #expect(try SlurmCluster.wait(for: summary) == [Self.completed])
        #expect(try SlurmCluster.wait(for: id) == [Self.completed, Self.completed])
        for (task, ranks) in [(0, 1), (1, 2)] {
            #expect(try job.log("localscale-study-\(id)_\(task).log").contains(": \(ranks) rank(s) × 1 thread(s) via srun\n"))
            try job.expectPlainMap(hdf5: "study/ranks-\(ranks).h5", ranks: ranks)
        }
        let table = try String(contentsOfFile: job.scratch.file("study/scaling.csv"), encoding: .utf8)
            .split(whereSeparator: \.isNewline)
        #expect(table.count == 3)
        #expect(table.dropFirst().map { $0.split(separator: ",").prefix(3).joined(separator: ",") } == ["ranks-1,strong,1", "ranks-2,strong,2"])
        for plot in ["speedup.svg", "phases.svg"] {
            #expect(FileManager.default.fileExists(atPath: job.scratch.file("study/" + plot)))
        }
    }

    @Test("localscale-array.sbatch: one map per array task from a list file")
    func mapArray() throws {
        let job = try Case()
        for name in ["first", "second"] {
            try FileManager.default.copyItem(atPath: CLITests.fixtures + "/em.mrc", toPath: job.scratch.file(name + ".mrc"))
        }
        let list = "# EM MODEL MASK\n\nfirst.mrc \(CLITests.fixtures)/model.mrc \(CLITests.fixtures)/mask.mrc\n"
            + "second.mrc \(CLITests.fixtures)/model.mrc \(CLITests.fixtures)/mask.mrc\n"
        try list.write(toFile: job.scratch.file("maps.txt"), atomically: true, encoding: .utf8)
        let id = try SlurmCluster.submit(SlurmTests.slurm + "/localscale-array.sbatch", ["--array=1-2", "--ntasks=1", "--cpus-per-task=1"],
                                         variables: job.variables, in: job.scratch.path)
        #expect(try SlurmCluster.wait(for: id) == [Self.completed, Self.completed])
        for (task, name) in [(1, "first"), (2, "second")] {
            #expect(try job.log("localscale-array-\(id)_\(task).log").contains("array task \(task) (job "))
            try job.expectPlainMap(mrc: "scaled/\(name)-scaled.mrc")
            try job.expectPlainMap(hdf5: "scaled/\(name)-scaled.h5", ranks: 1)
        }
    }

    @Test("a bad input fails the job (exit 1) with the one-line error in its log, and no output")
    func badInput() throws {
        let job = Scratch()
        try "not a map".write(toFile: job.file("bad.mrc"), atomically: true, encoding: .utf8)
        let variables = ["LOCALSCALE": CLITests.binary, "EM": job.file("bad.mrc"), "MODEL": CLITests.fixtures + "/model.mrc",
                         "OUT": "out.mrc"]
        let id = try SlurmCluster.submit(SlurmTests.slurm + "/localscale.sbatch", ["--ntasks-per-node=2", "--cpus-per-task=1"],
                                         variables: variables, in: job.path)
        #expect(try SlurmCluster.wait(for: id) == [SlurmCluster.Outcome(state: "FAILED", exitCode: "1:0")])
        let log = try String(contentsOfFile: job.file("localscale-\(id).log"), encoding: .utf8)
        let error = "localscale: error: \(job.file("bad.mrc")): not an MRC/CCP4 map: 9 bytes, shorter than the 1024-byte header"
        #expect(log.split(separator: "\n").filter { $0 == error }.count == 1, "\(log)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: job.path).sorted() == ["bad.mrc", "localscale-\(id).log"])
    }

    @Test("scancel while the ranks compute leaves no output file")
    func cancel() throws {
        let job = Scratch()
        // 48³ noise, all voxels masked, window 12: several seconds of work for two ranks.
        let grid = Grid(shape: XYZ(48, 48, 48), voxelSize: XYZ(1, 1, 1))
        var random = SystemRandomNumberGenerator()
        for name in ["em", "model"] {
            let values = (0..<grid.voxelCount).map { _ in Float.random(in: -1...1, using: &random) }
            try MRCFile.write(Volume(grid: grid, values: values), to: job.file(name + ".mrc"), labels: [])
        }
        let variables = ["LOCALSCALE": CLITests.binary, "EM": job.file("em.mrc"), "MODEL": job.file("model.mrc"), "OUT": "out.mrc",
                         "MASK": "none", "EXTRA": "--window 12 --fft-planning estimate --fftw-wisdom none"]
        let id = try SlurmCluster.submit(SlurmTests.slurm + "/localscale.sbatch", ["--ntasks-per-node=2", "--cpus-per-task=1"],
                                         variables: variables, in: job.path)
        let log = job.file("localscale-\(id).log")
        let deadline = Date().addingTimeInterval(30)
        while !((try? String(contentsOfFile: log, encoding: .utf8))?.contains("localscale: scaling 110592 voxels") ?? false),
              Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(try SlurmCluster.show(id).map(\.state) == ["RUNNING"])
        #expect(try CLITests.launch("scancel", [id], environment: SlurmCluster.environment, limit: 10).status == 0)
        #expect(try SlurmCluster.wait(for: id).map(\.state) == ["CANCELLED"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: job.path).sorted() == ["em.mrc", "localscale-\(id).log", "model.mrc"])
    }
}
