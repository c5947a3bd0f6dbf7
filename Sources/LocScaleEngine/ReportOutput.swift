import LocScaleCore
import LocScaleParallel
import Logging

/// `--report`: the validations of the input and the output side by side (`ValidationReport`),
/// computed by slab on every rank (`ReportSlabs`, with the local B map's histogram and slices),
/// and written by rank 0 with the gathered timings; its lines are logged.
struct ReportOutput: ScaleOutput {
    let directory: String
    let job: ScaleJob
    /// The mask as the report names it (`ScaleRun.maskName`).
    let maskName: String
    /// Ranks of the run.
    let ranks: Int
    let logger: Logger
    /// Rank 0's validations of the input and of the output, and the setup they were made with.
    private var validations: (maps: [MapValidation], localB: LocalBReport?, setup: RunSetup)?

    init(directory: String, job: ScaleJob, maskName: String, ranks: Int, logger: Logger) {
        self.directory = directory
        self.job = job
        self.maskName = maskName
        self.ranks = ranks
        self.logger = logger
    }

    /// Validates the input and the output by slab (collective); writes nothing yet.
    mutating func writePlanes(_ slab: ScaledSlab, into outputs: OutputFiles, communicator comm: Communicator) throws
        -> Int {
        guard let report = slab.report else { return 0 }
        let maps = try report.validations(output: slab.values, atoms: job.model.atoms, communicator: comm)
        let localB = try slab.localB?.report(planes: slab.planes, shape: slab.setup.shape, comm: comm)
        validations = maps.map { ($0, localB, slab.setup) }
        return 0
    }

    func finish(timings: TimingTable, into outputs: OutputFiles) throws {
        guard let (maps, localB, setup) = validations else { return }
        let experimental = switch job.experimental {
        case .map(let path): path
        case .halfMaps(let first, let second): "average of \(first) and \(second)"
        }
        let parameters: [(String, String)] = [
            ("experimental map", experimental), ("model", job.model.path), ("mask", maskName),
            ("window", "\(setup.window) voxels"), ("rule", setup.rule.reportName),
            ("ranks × threads", "\(ranks) × \(job.threads)"),
            ("command line", job.provenance.commandLine.joined(separator: " ")), ("version", job.provenance.build)]
        try ValidationReport(validations: maps, parameters: parameters, timings: timings.text, localB: localB)
            .write(to: directory, in: outputs)
        maps.flatMap(\.lines).forEach { logger.info("\($0)") }
    }
}
