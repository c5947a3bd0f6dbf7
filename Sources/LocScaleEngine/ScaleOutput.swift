import Foundation
import LocScaleCore
import LocScaleParallel

/// One output of a scale run (a field of `ScaleOutputs`), written in two phases into the run's
/// `OutputFiles`, so that it is renamed into place with the other outputs or discarded with them.
/// `ScaleRun.sinks()` lists the job's outputs; the run calls every output's `writePlanes` in that
/// order on every rank, gathers the timings, then calls every `finish` on rank 0 and commits.
protocol ScaleOutput {
    /// Every rank, collective: writes this rank's planes of what the run made, or computes from
    /// them with the other ranks what `finish` needs. Returns the bytes this rank wrote.
    mutating func writePlanes(_ slab: ScaledSlab, into outputs: OutputFiles, communicator: Communicator) throws
        -> Int
    /// Rank 0 only, once every rank's timings are gathered: what needs the whole run. A failure
    /// here is every rank's (the run calls it inside `Communicator.rootTries`).
    func finish(timings: TimingTable, into outputs: OutputFiles) throws
}

/// What a scale run made on one rank, for its outputs.
struct ScaledSlab {
    /// The rank's planes: it writes its tiling; every rank's tiling.
    let planes: RankPlanes
    /// The output on the tiling planes, (z, y, x), x fastest, in the model map's units.
    let values: [Float]
    let grid: Grid
    let setup: RunSetup
    /// The rank's planes of the local B map (with `--bfactor-map`).
    let localB: LocalBSlab?
    /// The mask file the run scaled with (nil with `--mask none`), to read planes of.
    let mask: MRCSlabReader?
    /// The input maps on the validation's planes (with `--report`).
    let report: ReportSlabs?
}

extension ScaleRun {
    /// The job's outputs in the order every rank writes them (and rank 0 finishes them): the one
    /// place that turns `ScaleOutputs` into `ScaleOutput`s. `--save-model-map` and `--mask-out`
    /// are not among them: they are written, into the same `OutputFiles`, from what the run makes
    /// before it scales (the simulated slabs, the automatic mask) and does not keep.
    func sinks() -> [any ScaleOutput] {
        let requested = job.outputs
        let fault: (any ScaleOutput)? = diesForFaultTest(at: "write") ? FaultTestExit() : nil
        let sinks: [(any ScaleOutput)?] = [
            requested.map.map { MRCMapOutput(path: $0, field: .scaled(labels: job.provenance.labels)) },
            requested.bfactorMap.map { MRCMapOutput(path: $0, field: .localB(version: job.provenance.version)) },
            fault,
            requested.hdf5.map { HDF5MapOutput(path: $0, job: job, ranks: comm.size, automaticMask: automaticMask) },
            requested.timingsJSON.map { TimingsJSONOutput(path: $0, threads: job.threads) },
            requested.reportDirectory.map {
                ReportOutput(directory: $0, job: job, maskName: maskName, ranks: comm.size, logger: logger)
            },
        ]
        return sinks.compactMap { $0 }
    }
}

/// An MRC file (mode 2, the input's geometry) of one of the run's per-voxel fields: every rank
/// writes its tiling planes with MPI-IO (`DistributedMRCWriter`, header statistics as
/// `MRCFile.write` computes them, for any rank count).
struct MRCMapOutput: ScaleOutput {
    /// Which of the run's fields, and its labels.
    enum Field {
        /// The scaled map (`--out`), labelled with the command line.
        case scaled(labels: [String])
        /// The local B map (`--bfactor-map`, Å²), labelled with its fit (`LocalBSlab.label`).
        case localB(version: String)
    }

    let path: String
    let field: Field

    func writePlanes(_ slab: ScaledSlab, into outputs: OutputFiles, communicator: Communicator) throws -> Int {
        let values: [Float], labels: [String]
        switch field {
        case .scaled(let scaledLabels):
            (values, labels) = (slab.values, scaledLabels)
        case .localB(let version):
            guard let localB = slab.localB else { preconditionFailure("a local B output without a local B map") }
            (values, labels) = (localB.values, [localB.label(version: version)])
        }
        return try DistributedMRCWriter.write(planes: slab.planes.tiling, values: values, grid: slab.grid,
                                              labels: labels, to: path, in: outputs, communicator: communicator)
    }

    func finish(timings: TimingTable, into outputs: OutputFiles) {}
}

/// The timings of every rank as JSON (`--timings-json`, `TimingTable.writeJSON`), on rank 0.
struct TimingsJSONOutput: ScaleOutput {
    let path: String
    /// Threads of each rank.
    let threads: Int

    func writePlanes(_ slab: ScaledSlab, into outputs: OutputFiles, communicator: Communicator) -> Int { 0 }

    func finish(timings: TimingTable, into outputs: OutputFiles) throws {
        try timings.writeJSON(to: path, threads: threads, in: outputs)
    }
}

/// Test hook of the fault tests at its place among the outputs: after the MRC maps' collective
/// writes, before HDF5 and the commit. Listed only on the rank that `LOCALSCALE_TEST_KILL_RANK`
/// names with `LOCALSCALE_TEST_KILL_AT=write`, which dies there as a crashed node would.
struct FaultTestExit: ScaleOutput {
    func writePlanes(_ slab: ScaledSlab, into outputs: OutputFiles, communicator: Communicator) -> Int {
        ScaleRun.exitForFaultTest(rank: communicator.rank)
    }

    func finish(timings: TimingTable, into outputs: OutputFiles) {}
}
