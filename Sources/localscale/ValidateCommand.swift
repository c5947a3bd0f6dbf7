import ArgumentParser
import Foundation
import LocScaleCore
import LocScaleEngine

/// `localscale validate`: FSC, RSCC and radial profiles of a map against a model, with a report.
/// An MPI job: every rank reads and validates its z-slab of the maps (ARCHITECTURE §3.1).
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Compare a map with a model map or atomic model: FSC, RSCC (global, per residue), Guinier B, report.")

    @Option(name: .customLong("map"), help: ArgumentHelp("Map to validate.", valueName: "map.mrc"))
    var mapPath: String

    @OptionGroup var source: ModelSource

    var modelMapPath: String? { source.modelMapPath }
    var modelPath: String? { source.modelPath }
    var modelOptions: ModelOptions { source.modelOptions }

    @Option(name: .customLong("mask"), help: ArgumentHelp(
        "Mask on the same grid (masked FSC; RSCC over mask ≥ 0.5).",
        valueName: "mask.mrc"))
    var maskPath: String?

    @Option(name: .customLong("half-maps"), parsing: .upToNextOption, help: ArgumentHelp(
        "Two half maps: half-map FSC and FSC_ref.",
        valueName: "half.mrc"))
    var halfMapPaths: [String] = []

    @Option(name: .customLong("report"), help: ArgumentHelp(
        "Folder for report.html, summary.json and CSV files.",
        valueName: "dir"))
    var reportDirectory: String?

    @Option(name: .customLong("guinier-from"), help: ArgumentHelp(
        "Low-resolution end of the Guinier fit in Å; the high end is --resolution, else the half-map 0.143 resolution, else Nyquist.",
        valueName: "Å"))
    var guinierFrom: Double = 10

    @Option(name: .customLong("threads"), help: ArgumentHelp(
        "Threads per rank for the model simulation.",
        valueName: "n"))
    var requestedThreads: Int?

    func validate() throws {
        guard halfMapPaths.isEmpty || halfMapPaths.count == 2 else {
            throw ValidationError("--half-maps takes two maps")
        }
        let inputs = [NamedPath("--map", mapPath), modelMapPath.map { NamedPath("--model-map", $0) },
                      modelPath.map { NamedPath("--model", $0) }, maskPath.map { NamedPath("--mask", $0) }]
            .compactMap { $0 } + halfMapPaths.map { NamedPath("--half-maps", $0) }
        let outputs = (reportDirectory.map { ValidationReport.files(in: $0, maps: ["map"]) } ?? [])
            .map { NamedPath("--report", $0) }
        if let collision = NamedPath.firstCollision(outputs: outputs, inputs: inputs) {
            throw ValidationError(collision)
        }
    }

    func run() throws {
        let job = ValidateJob(map: mapPath, model: source.model, mask: maskPath, halfMaps: halfMapPaths,
                              reportDirectory: reportDirectory, guinierFrom: guinierFrom,
                              threads: requestedThreads ?? coresPerLocalRank(), provenance: .ofThisRun)
        try runOnRanks(quiet: false) { comm, logger in
            let validation = try ValidateRun(job: job, communicator: comm, logger: logger).run()
            validation?.lines.forEach { print($0) }
        }
    }
}
