import ArgumentParser
import Foundation
import LocScaleCore

/// `localscale validate`: FSC, RSCC and radial profiles of a map against a model, with a report.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Compare a map with a model map or atomic model: FSC, RSCC (global, per residue), Guinier B, report.")

    @Option(name: .customLong("map"), help: ArgumentHelp("Map to validate.", valueName: "map.mrc"))
    var mapPath: String

    @Option(name: .customLong("model-map"), help: ArgumentHelp("Model map on the same grid.", valueName: "model.mrc"))
    var modelMapPath: String?

    @Option(name: .customLong("model"), help: ArgumentHelp("Atomic model: simulated on the map's grid; enables RSCC near atoms and per residue.", valueName: "model.pdb"))
    var modelPath: String?

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .customLong("mask"), help: ArgumentHelp("Mask on the same grid (masked FSC; RSCC over mask ≥ 0.5).", valueName: "mask.mrc"))
    var maskPath: String?

    @Option(name: .customLong("half-maps"), parsing: .upToNextOption, help: ArgumentHelp("Two half maps: half-map FSC and FSC_ref.", valueName: "half.mrc"))
    var halfMapPaths: [String] = []

    @Option(name: .customLong("report"), help: ArgumentHelp("Folder for report.html, summary.json and CSV files.", valueName: "dir"))
    var reportDirectory: String?

    func validate() throws {
        guard (modelMapPath == nil) != (modelPath == nil) else {
            throw ValidationError("give either --model-map MAP.mrc or --model MODEL.pdb")
        }
        guard halfMapPaths.isEmpty || halfMapPaths.count == 2 else {
            throw ValidationError("--half-maps takes two maps")
        }
    }

    func run() throws {
        let logger = makeLogger(quiet: false)
        func read(_ path: String) throws -> NamedVolume { NamedVolume(path: path, volume: try MRCFile.read(path: path).volume) }
        let map = try read(mapPath)
        let mask = try maskPath.map(read)
        let halves = try halfMapPaths.map(read)
        var model: AtomicModel?
        let modelMap: NamedVolume
        if let modelPath {
            let loaded = try AtomicModel.read(path: modelPath, modelNumber: modelOptions.modelNumber,
                                              unknownElementAs: modelOptions.unknownElementAs)
            let simulator = try DensitySimulator(grid: map.volume.grid, resolution: modelOptions.resolution)
            try simulator.checkFrame(loaded)
            modelMap = NamedVolume(path: modelPath, volume: simulator.simulate(loaded, threads: coresPerLocalRank()))
            model = loaded
        } else {
            modelMap = try read(modelMapPath!)
        }
        for other in [modelMap] + (mask.map { [$0] } ?? []) + halves {
            try ScalingInputs.checkSameGrid(other, as: map)
        }
        let validation = MapValidation(name: "map", map: map.volume, modelMap: modelMap.volume, mask: mask?.volume,
                                       halfMaps: halves.count == 2 ? (halves[0].volume, halves[1].volume) : nil,
                                       model: model, resolution: modelOptions.resolution)
        validation.lines.forEach { print($0) }
        if let reportDirectory {
            let parameters = [("map", mapPath), ("model", modelPath ?? modelMapPath!), ("mask", maskPath ?? "none"),
                              ("half maps", halfMapPaths.isEmpty ? "none" : halfMapPaths.joined(separator: ", ")),
                              ("version", "localscale \(LocalScaleCommand.version)")]
            try ValidationReport(validations: [validation], parameters: parameters).write(to: reportDirectory)
            logger.info("wrote \(reportDirectory)/report.html and summary.json")
        }
    }
}
