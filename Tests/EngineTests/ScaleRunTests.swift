import Foundation
import Logging
import Testing
import LocScaleCore
import LocScaleEngine
import LocScaleParallel
import TestSupport

/// The engine run in this process on one MPI rank (a singleton world), against the oracles the
/// command-line tests use, without launching the binary. Serialized: MPI is called from one
/// thread at a time, and MPI is started once and never finalised (it cannot be restarted).
@Suite("Engine runs in-process on one rank", .serialized)
struct ScaleRunTests {
    static let fixtures: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/data").path

    /// The process's one-rank world, started on first use.
    static let communicator: Communicator = try! Communicator.start()

    static let logger = Logger(label: "engine-tests") { _ in SwiftLogNoOpLogHandler() }

    static let provenance = Provenance(version: "0.0.0-test", build: "engine tests",
                                       commandLine: ["engine-tests", "scale", "--window", "8"])

    /// The fixture's exact job: window 8, pad factor 1, FFTW_ESTIMATE plans, no wisdom file.
    static func exactJob(out: String, threads: Int = 2) -> ScaleJob {
        ScaleJob(experimental: .map(fixtures + "/em.mrc"), model: .map(fixtures + "/model.mrc"),
                 mask: .file(fixtures + "/mask.mrc"), rule: .exact(padFactor: 1), window: 8,
                 outputs: ScaleOutputs(map: out), threads: threads, planning: .estimate, provenance: provenance)
    }

    static func run(_ job: ScaleJob) throws -> ScaleSummary {
        try ScaleRun(job: job, communicator: communicator, logger: logger).run()
    }

    @Test("a ScaleJob writes the oracle's map (window 8, pad 1) and returns its timing table")
    func scaleMatchesOracle() throws {
        let scratch = ScratchFolder()
        let summary = try Self.run(Self.exactJob(out: scratch.file("out.mrc")))
        #expect(summary.table.rows.count == 1)
        #expect(summary.table.voxelCounts == [2474])
        #expect(summary.workImbalance == 1)
        #expect(summary.totalSeconds > 0)

        let output = try MRCFile.read(path: scratch.file("out.mrc"))
        let expected = try MRCFile.read(path: Self.fixtures + "/expected_exact_w8_pad1.mrc")
        #expect(output.volume.grid == expected.volume.grid)
        #expect(output.header.labels == ["localscale 0.0.0-test: scale --window 8"])
        let mask = try MRCFile.read(path: Self.fixtures + "/mask.mrc").volume.values
        #expect(relativeRMS(output.volume.values, expected.volume.values, where: { mask[$0] >= 0.5 }) < 1e-4)
        #expect(mask.indices.allSatisfy { mask[$0] >= 0.5 || output.volume.values[$0] == 0 })
    }

    @Test("1 and 2 threads give the same bits (plans shared in this process)")
    func threadsAreBitwiseIdentical() throws {
        let scratch = ScratchFolder()
        for threads in [1, 2] {
            _ = try Self.run(Self.exactJob(out: scratch.file("t\(threads).mrc"), threads: threads))
        }
        let one = try MRCFile.read(path: scratch.file("t1.mrc")).volume.values
        let two = try MRCFile.read(path: scratch.file("t2.mrc")).volume.values
        #expect(one.map(\.bitPattern) == two.map(\.bitPattern))
    }

    @Test("a missing input is rank 0's failure, agreed by every rank, naming the file; nothing is written")
    func missingInputIsAgreedFailure() throws {
        let scratch = ScratchFolder()
        var job = Self.exactJob(out: scratch.file("out.mrc"))
        job.experimental = .map(scratch.file("missing.mrc"))
        #expect {
            _ = try Self.run(job)
        } throws: { error in
            guard let agreed = error as? AgreedFailure else { return false }
            return agreed.description.hasPrefix(scratch.file("missing.mrc") + ":")
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.file("out.mrc")))
    }

    @Test("fast mode cannot follow the locscale2 rule: one line, not a trap")
    func fastNeedsExactRule() throws {
        let scratch = ScratchFolder()
        var job = Self.exactJob(out: scratch.file("out.mrc"))
        job.rule = .locscale2
        job.method = .fast
        #expect {
            _ = try Self.run(job)
        } throws: { error in
            (error as? AgreedFailure)?.description.contains("cannot follow the locscale2 rule") == true
        }
    }
}

@Suite("Job descriptions are plain data")
struct JobCodingTests {
    static let provenance = Provenance(version: "1.2.3", build: "b", commandLine: ["localscale", "scale"])

    static let jobs: [ScaleJob] = [
        ScaleJob(experimental: .map("em.mrc"), model: .map("model.mrc"), mask: .file("mask.mrc"),
                 rule: .exact(padFactor: 1.5), window: 8, outputs: ScaleOutputs(map: "out.mrc"), threads: 2,
                 provenance: provenance),
        ScaleJob(experimental: .halfMaps("h1.mrc", "h2.mrc"),
                 model: .atoms("m.cif.gz", AtomicModelOptions(modelNumber: 2, unknownElementAs: "C", resolution: 3.1)),
                 mask: .everyVoxel, rule: .locscale2, window: nil, method: .fast, fastExactShells: -1,
                 outputs: ScaleOutputs(map: nil, hdf5: "o.h5", timingsJSON: "t.json", reportDirectory: "r",
                                       savedModelMap: "sim.mrc"),
                 threads: 7, planning: .measure, wisdomFile: "/tmp/w", progress: true, provenance: provenance),
        ScaleJob(experimental: .map("em.mrc"), model: .map("model.mrc"), mask: .automatic(fdr: 0.05),
                 rule: .exact(padFactor: 2), outputs: ScaleOutputs(map: "out.mrc", maskOut: "auto.mrc"), threads: 1,
                 provenance: provenance),
    ]

    @Test("a ScaleJob survives JSONEncoder → JSONDecoder unchanged", arguments: jobs.indices)
    func scaleJobRoundTrips(index: Int) throws {
        let job = Self.jobs[index]
        let data = try JSONEncoder().encode(job)
        #expect(try JSONDecoder().decode(ScaleJob.self, from: data) == job)
    }

    @Test("the rule is encoded as itself, not as an optional pad factor")
    func ruleEncoding() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(String(decoding: try encoder.encode(ScalingRule.exact(padFactor: 2)), as: UTF8.self)
                == #"{"exact":{"padFactor":2}}"#)
        #expect(String(decoding: try encoder.encode(ScalingRule.locscale2), as: UTF8.self) == #"{"locscale2":{}}"#)
    }

    @Test("simulate and validate jobs survive a JSON round trip unchanged")
    func otherJobsRoundTrip() throws {
        let simulate = SimulateJob(model: "m.pdb", options: AtomicModelOptions(resolution: 4), like: "em.mrc",
                                   out: "sim.mrc", threads: 3, provenance: Self.provenance)
        let validate = ValidateJob(map: "map.mrc", model: .map("model.mrc"), mask: "mask.mrc",
                                   halfMaps: ["a.mrc", "b.mrc"], reportDirectory: "rep", guinierFrom: 8, threads: 1,
                                   provenance: Self.provenance)
        #expect(try JSONDecoder().decode(SimulateJob.self, from: JSONEncoder().encode(simulate)) == simulate)
        #expect(try JSONDecoder().decode(ValidateJob.self, from: JSONEncoder().encode(validate)) == validate)
    }
}
