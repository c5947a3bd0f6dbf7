import LocScaleCore

// Plain descriptions of the runs the engine does: what to read, how to compute, what to write.
// They are built by the command line (or a test, or a script) and carry no parsing types; a job
// encodes to JSON and back unchanged.

/// How the local shell powers are found.
public enum ScalingMethod: String, CaseIterable, Codable, Sendable {
    /// Two FFTs of the padded cube per voxel (docs/KERNEL.md).
    case exact
    /// The matched filter bank: whole-map FFTs per Fourier shell (docs/FASTMODE.md), an estimate
    /// of exact mode at the same pad factor.
    case fast
}

/// The experimental map: one map, or two half maps whose average is the map (LocScale 2's way).
public enum ExperimentalInput: Codable, Equatable, Sendable {
    case map(String)
    case halfMaps(String, String)

    /// The map's path, or the first half map's (for messages and the grid).
    public var path: String {
        switch self {
        case .map(let path), .halfMaps(let path, _): return path
        }
    }

    /// Every file read, in order.
    public var paths: [String] {
        switch self {
        case .map(let path): return [path]
        case .halfMaps(let first, let second): return [first, second]
        }
    }
}

/// How an atomic model is chosen, read and simulated.
public struct AtomicModelOptions: Codable, Equatable, Sendable {
    /// MODEL record / pdbx_PDB_model_num; nil = the first.
    public var modelNumber: Int?
    /// Element whose scattering factor atoms of unknown elements get; nil = such atoms are an error.
    public var unknownElementAs: String?
    /// Resolution d_min of the model map in Å; nil = Nyquist (2 × the largest voxel size).
    public var resolution: Double?

    public init(modelNumber: Int? = nil, unknownElementAs: String? = nil, resolution: Double? = nil) {
        self.modelNumber = modelNumber
        self.unknownElementAs = unknownElementAs
        self.resolution = resolution
    }

    /// Reads the model at `path` with these options.
    func read(_ path: String) throws -> AtomicModel {
        try AtomicModel.read(path: path, modelNumber: modelNumber, unknownElementAs: unknownElementAs)
    }
}

/// The model: a map on the experimental map's grid, or an atomic model simulated on that grid.
public enum ModelInput: Codable, Equatable, Sendable {
    case map(String)
    case atoms(String, AtomicModelOptions)

    public var path: String {
        switch self {
        case .map(let path), .atoms(let path, _): return path
        }
    }

    /// The atomic model's path and options; nil for a model map.
    public var atoms: (path: String, options: AtomicModelOptions)? {
        if case .atoms(let path, let options) = self { return (path, options) }
        return nil
    }
}

/// Who ran a job, for MRC labels, HDF5 `/provenance` and reports.
public struct Provenance: Codable, Equatable, Sendable {
    /// The program's version ("0.1.0").
    public var version: String
    /// One line naming the program, commit and libraries.
    public var build: String
    /// The command line, program name first.
    public var commandLine: [String]

    public init(version: String, build: String, commandLine: [String]) {
        self.version = version
        self.build = build
        self.commandLine = commandLine
    }

    /// "localscale VERSION: ARGUMENTS…" in MRC labels of 80 characters (at most 10).
    var labels: [String] {
        let line = "localscale \(version): " + commandLine.dropFirst().joined(separator: " ")
        return stride(from: 0, to: line.count, by: 80).prefix(10).map { start in
            let from = line.index(line.startIndex, offsetBy: start)
            return String(line[from..<line.index(from, offsetBy: min(80, line.count - start))])
        }
    }
}

/// Which voxels `scale` scales (ARCHITECTURE §1.1).
public enum MaskChoice: Codable, Equatable, Sendable {
    /// A mask file on the map's grid: voxels >= 0.5 are scaled.
    case file(String)
    /// Every voxel (`--mask none`).
    case everyVoxel
    /// The mask of the map's FDR confidence map at this false discovery rate (ARCHITECTURE §1.6),
    /// computed by the run.
    case automatic(fdr: Double)

    /// The mask file read, if any.
    public var file: String? {
        if case .file(let path) = self { return path }
        return nil
    }
}

/// The files `scale` writes (at least one of `map` and `hdf5`).
public struct ScaleOutputs: Codable, Equatable, Sendable {
    /// MRC, mode 2, the input's geometry.
    public var map: String?
    /// HDF5: `/map` (z, y, x), `/timing` per rank, `/provenance`.
    public var hdf5: String?
    /// The per-rank timing table as JSON.
    public var timingsJSON: String?
    /// Folder for a validation report of input and output.
    public var reportDirectory: String?
    /// The simulated model map (with an atomic model only).
    public var savedModelMap: String?
    /// The automatic mask (MRC, mode 2, 0 or 1; with `MaskChoice.automatic` only).
    public var maskOut: String?
    /// The local B map (MRC, mode 2, Å², the input's geometry; `ScaleJob.localB`); with `hdf5`
    /// also its `/bfactor`.
    public var bfactorMap: String?

    public init(map: String? = nil, hdf5: String? = nil, timingsJSON: String? = nil, reportDirectory: String? = nil,
                savedModelMap: String? = nil, maskOut: String? = nil, bfactorMap: String? = nil) {
        self.map = map
        self.hdf5 = hdf5
        self.timingsJSON = timingsJSON
        self.reportDirectory = reportDirectory
        self.savedModelMap = savedModelMap
        self.maskOut = maskOut
        self.bfactorMap = bfactorMap
    }

    /// The files written, named by what they are ("--out" style names for messages).
    public var named: [NamedPath] {
        [map.map { NamedPath("--out", $0) }, hdf5.map { NamedPath("--hdf5", $0) },
         timingsJSON.map { NamedPath("--timings-json", $0) }, savedModelMap.map { NamedPath("--save-model-map", $0) },
         maskOut.map { NamedPath("--mask-out", $0) }, bfactorMap.map { NamedPath("--bfactor-map", $0) }]
            .compactMap { $0 }
            + (reportDirectory.map { ValidationReport.files(in: $0, maps: ["input", "output"]) } ?? [])
                .map { NamedPath("--report", $0) }
    }
}

/// How the local B map (`ScaleOutputs.bfactorMap`, docs/KERNEL.md §8) is fitted.
public struct LocalBOptions: Codable, Equatable, Sendable {
    /// Low-resolution end of the Guinier fit, Å (the high end: the model's resolution, else Nyquist).
    public var guinierFrom: Double
    /// Lattice spacing of the voxels whose window is transformed (the others take their nearest
    /// lattice voxel's B); nil: `defaultStride` of the method.
    public var stride: Int?

    public init(guinierFrom: Double = 10, stride: Int? = nil) {
        self.guinierFrom = guinierFrom
        self.stride = stride
    }

    /// The stride that keeps the B map's cost within its budget (benchmarks/RESULTS.md §15):
    /// 2 in exact mode (≤ 10 % more), 4 in fast mode (≤ 20 % more).
    public static func defaultStride(for method: ScalingMethod) -> Int { method == .exact ? 2 : 4 }
}

/// `scale`: local amplitude scaling of an experimental map to a model map.
public struct ScaleJob: Codable, Equatable, Sendable {
    public var experimental: ExperimentalInput
    public var model: ModelInput
    public var mask: MaskChoice
    public var rule: ScalingRule
    /// Window edge in voxels; nil = ceil(25 Å / voxel size), rounded up to even.
    public var window: Int?
    public var method: ScalingMethod
    /// Fast mode: the highest shell whose powers are measured exactly (-1: every shell estimated).
    public var fastExactShells: Int
    public var outputs: ScaleOutputs
    /// Threads of each rank.
    public var threads: Int
    public var planning: FFTPlanning
    /// FFTW wisdom read before planning and saved after the run; nil = plan afresh.
    public var wisdomFile: String?
    /// Whether rank 0 shows a progress line on stderr.
    public var progress: Bool
    /// Whether rank 0 measures the I/O floor after the run (`IOFloor`: a plain read of the input
    /// maps and a write + fsync of as many bytes as the run wrote, next to the first output).
    public var ioFloor: Bool
    public var provenance: Provenance
    /// The local B map's fit (used with `outputs.bfactorMap`).
    public var localB: LocalBOptions

    public init(experimental: ExperimentalInput, model: ModelInput, mask: MaskChoice, rule: ScalingRule,
                window: Int? = nil, method: ScalingMethod = .exact, fastExactShells: Int = 1, outputs: ScaleOutputs,
                threads: Int, planning: FFTPlanning = .patient, wisdomFile: String? = nil, progress: Bool = false,
                ioFloor: Bool = false, provenance: Provenance, localB: LocalBOptions = LocalBOptions()) {
        self.localB = localB
        self.experimental = experimental
        self.model = model
        self.mask = mask
        self.rule = rule
        self.window = window
        self.method = method
        self.fastExactShells = fastExactShells
        self.outputs = outputs
        self.threads = threads
        self.planning = planning
        self.wisdomFile = wisdomFile
        self.progress = progress
        self.ioFloor = ioFloor
        self.provenance = provenance
    }

    /// The files read, named by what they are.
    public var inputs: [NamedPath] {
        let maps: [NamedPath] = switch experimental {
        case .map(let path): [NamedPath("--em", path)]
        case .halfMaps(let first, let second): [NamedPath("--half-maps", first), NamedPath("--half-maps", second)]
        }
        let model = switch model {
        case .map(let path): NamedPath("--model-map", path)
        case .atoms(let path, _): NamedPath("--model", path)
        }
        return maps + (mask.file.map { [NamedPath("--mask", $0)] } ?? []) + [model]
    }
}

/// `simulate`: the model map of an atomic model on the grid of a map.
public struct SimulateJob: Codable, Equatable, Sendable {
    public var model: String
    public var options: AtomicModelOptions
    /// The map whose grid the model map gets.
    public var like: String
    /// The model map (MRC, mode 2).
    public var out: String
    public var threads: Int
    public var provenance: Provenance

    public init(model: String, options: AtomicModelOptions, like: String, out: String, threads: Int,
                provenance: Provenance) {
        self.model = model
        self.options = options
        self.like = like
        self.out = out
        self.threads = threads
        self.provenance = provenance
    }
}

/// `validate`: FSC, RSCC and radial profiles of a map against a model, optionally a report.
public struct ValidateJob: Codable, Equatable, Sendable {
    public var map: String
    public var model: ModelInput
    public var mask: String?
    /// Two half maps (half-map FSC and FSC_ref), or none.
    public var halfMaps: [String]
    /// Folder for report.html, summary.json and CSV files.
    public var reportDirectory: String?
    /// Low-resolution end of the Guinier fit in Å.
    public var guinierFrom: Double
    /// Threads of each rank for the model simulation.
    public var threads: Int
    public var provenance: Provenance

    public init(map: String, model: ModelInput, mask: String?, halfMaps: [String] = [], reportDirectory: String?,
                guinierFrom: Double = 10, threads: Int, provenance: Provenance) {
        self.map = map
        self.model = model
        self.mask = mask
        self.halfMaps = halfMaps
        self.reportDirectory = reportDirectory
        self.guinierFrom = guinierFrom
        self.threads = threads
        self.provenance = provenance
    }
}
