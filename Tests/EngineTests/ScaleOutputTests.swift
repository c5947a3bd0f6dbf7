import Foundation
import Testing
import LocScaleCore
@testable import LocScaleEngine
import LocScaleParallel
import TestSupport

/// The outputs of a scale run as a list of `ScaleOutput`s: which ones a job's `ScaleOutputs`
/// gives, in which order, and an output that is not the job's, written through the same list.
/// In `ScaleRunTests`' serialized suite, which owns the one-rank communicator.
extension ScaleRunTests {
    /// What a listed output is, in a word, and where it goes.
    static func describe(_ sink: any ScaleOutput) -> String {
        switch sink {
        case let map as MRCMapOutput:
            switch map.field {
            case .scaled(let labels): "MRC of the scaled map \(map.path) labelled \(labels)"
            case .localB(let version): "MRC of the local B map \(map.path) (version \(version))"
            }
        case let file as HDF5MapOutput: "HDF5 \(file.path)"
        case let json as TimingsJSONOutput: "timings JSON \(json.path), \(json.threads) threads"
        case let report as ReportOutput: "report \(report.directory), mask \(report.maskName)"
        default: "\(type(of: sink))"
        }
    }

    @Test("sinks(): the job's outputs in the order they are written; the model map and mask are not among them")
    func sinksOfEveryOutput() throws {
        var job = Self.exactJob(out: "o.mrc")
        job.outputs = ScaleOutputs(map: "o.mrc", hdf5: "o.h5", timingsJSON: "t.json", reportDirectory: "rep",
                                   savedModelMap: "model.mrc", maskOut: "m.mrc", bfactorMap: "b.mrc")
        let sinks = ScaleRun(job: job, communicator: Self.communicator, logger: Self.logger).sinks()
        #expect(sinks.map(Self.describe) == [
            #"MRC of the scaled map o.mrc labelled ["localscale 0.0.0-test: scale --window 8"]"#,
            "MRC of the local B map b.mrc (version 0.0.0-test)",
            "HDF5 o.h5",
            "timings JSON t.json, 2 threads",
            "report rep, mask \(Self.fixtures)/mask.mrc",
        ])

        job.outputs = ScaleOutputs(hdf5: "only.h5")
        #expect(ScaleRun(job: job, communicator: Self.communicator, logger: Self.logger).sinks().map(Self.describe)
                == ["HDF5 only.h5"])
    }

    /// A test output: its collective phase notes what it was given and claims `bytes` written;
    /// its rank-0 phase writes that note and the gathered bytes written to `path` (or fails).
    struct ProbeOutput: ScaleOutput {
        let path: String
        let bytes: Int
        var failing = false
        /// What `writePlanes` saw; `finish` needs it, so it must be called on the listed value.
        var seen: String?

        struct Failure: Error, CustomStringConvertible {
            let description: String
        }

        mutating func writePlanes(_ slab: ScaledSlab, into outputs: OutputFiles, communicator: Communicator) -> Int {
            seen = "planes \(slab.planes.tiling), \(slab.values.count) values, "
                + "\(slab.values.filter { $0 != 0 }.count) not 0"
            return bytes
        }

        func finish(timings: TimingTable, into outputs: OutputFiles) throws {
            if failing { throw Failure(description: "\(path): the probe fails") }
            try outputs.write(Array("\(seen ?? "nothing seen"); bytes written \(timings.bytesWritten)".utf8),
                              to: path)
        }
    }

    @Test("an output that is not the job's is written and finished through the same list, committed with --out")
    func extraOutputThroughTheList() throws {
        let scratch = ScratchFolder()
        let run = ScaleRun(job: Self.exactJob(out: scratch.file("out.mrc")), communicator: Self.communicator,
                           logger: Self.logger)
        let summary = try run.run(into: run.sinks() + [ProbeOutput(path: scratch.file("probe.txt"), bytes: 1000)])

        let map = try MRCFile.read(path: scratch.file("out.mrc")).volume
        let mapBytes = try #require(try FileManager.default.attributesOfItem(atPath: scratch.file("out.mrc"))[.size]
                                    as? Int)
        #expect(mapBytes == 1024 + 4 * map.values.count)
        #expect(summary.table.bytesWritten == [mapBytes + 1000])
        let note = try String(contentsOfFile: scratch.file("probe.txt"), encoding: .utf8)
        #expect(note == "planes 0..<\(map.grid.shape.z), \(map.values.count) values, "
                + "\(map.values.filter { $0 != 0 }.count) not 0; bytes written [\(mapBytes + 1000)]")
        #expect(map.values.filter { $0 != 0 }.count == 2474)
    }

    @Test("an output failing on rank 0 fails the run as one agreed line and discards every output")
    func failingOutputDiscardsAll() throws {
        let scratch = ScratchFolder()
        let run = ScaleRun(job: Self.exactJob(out: scratch.file("out.mrc")), communicator: Self.communicator,
                           logger: Self.logger)
        let probe = ProbeOutput(path: scratch.file("probe.txt"), bytes: 0, failing: true)
        #expect {
            _ = try run.run(into: run.sinks() + [probe])
        } throws: { error in
            (error as? AgreedFailure)?.description == "\(scratch.file("probe.txt")): the probe fails"
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == [])
    }
}
