import ArgumentParser
import Foundation
import LocScaleCore
import LocScaleEngine

/// The maps `scale` reads (the model comes from `ModelSource`).
struct ScaleInputOptions: ParsableArguments {
    @Option(name: .customLong("em"), help: ArgumentHelp(
        "Experimental map (unfiltered, unsharpened).",
        valueName: "map.mrc"))
    var experimentalPathOption: String?

    @Option(name: .customLong("half-maps"), parsing: .upToNextOption, help: ArgumentHelp(
        "Two half maps whose average is the experimental map (instead of --em), as LocScale 2 does.",
        valueName: "half.mrc"))
    var halfMapPaths: [String] = []

    @Option(name: .customLong("mask"), help: ArgumentHelp("""
        Mask on the same grid: voxels >= 0.5 are scaled; 'none': every voxel (a file named none: \
        ./none). Default: the mask of the map's FDR confidence map at --fdr (see `localscale \
        confidence --help`), as LocScale 2 makes it, grown by 6 Å (every voxel within 6 Å of \
        one in that mask).
        """, valueName: "mask.mrc|none"))
    var maskPath: String?

    @Option(help: ArgumentHelp(
        "False discovery rate of the automatic mask, in (0, 1) (default 0.01).",
        valueName: "rate"))
    var fdr: Double?

    @Option(name: .customLong("mask-out"), help: ArgumentHelp(
        "Also write the automatic mask (MRC, mode 2, 1 inside, 0 outside).",
        valueName: "mask.mrc"))
    var maskOutPath: String?

    /// Which voxels are scaled.
    var mask: MaskChoice {
        switch maskPath {
        case nil: .automatic(fdr: fdr ?? ConfidenceMask.defaultFDR)
        case "none": .everyVoxel
        case let path?: .file(path)
        }
    }

    /// The experimental map (the checks of `validate()` passed).
    var experimental: ExperimentalInput {
        halfMapPaths.count == 2 ? .halfMaps(halfMapPaths[0], halfMapPaths[1]) : .map(experimentalPathOption ?? "")
    }

    func validate() throws {
        guard (experimentalPathOption == nil) != halfMapPaths.isEmpty, halfMapPaths.isEmpty || halfMapPaths.count == 2 else {
            throw ValidationError("give either --em MAP.mrc or --half-maps HALF1.mrc HALF2.mrc")
        }
        if let fdr, !(fdr > 0 && fdr < 1) { throw ValidationError("--fdr must lie in (0, 1) (found \(fdr))") }
        if let maskPath {
            for (option, given) in [("--fdr", fdr != nil), ("--mask-out", maskOutPath != nil)] where given {
                throw ValidationError("\(option) is for the automatic mask: it cannot go with --mask \(maskPath)")
            }
        }
    }
}

/// How `scale` computes: window, padding, rules and method.
struct ScaleMethodOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Window edge in voxels (default: ceil(25 Å / voxel size), rounded up to even).",
        valueName: "voxels"))
    var window: Int?

    @Option(name: .customLong("pad-factor"), help: ArgumentHelp(
        "Zero-pad the window to a smooth size >= this × window.",
        valueName: "factor"))
    var padFactor: Double = 2

    @Option(help: "Reproduce another implementation's numerical rules.")
    var compat: CompatMode?

    @Option(help: ArgumentHelp("""
        exact: two FFTs of the padded cube per voxel. fast: whole-map FFTs per Fourier shell, \
        an estimate of exact mode at the same --pad-factor (a few % relative RMS from it). Fast \
        mode gives a first look at a big map in a minute or two; exact mode at the default pad \
        factor 2 takes about an hour on a 400³ ribosome-size map on 2 cores.
        """))
    var method: ScalingMethod = .exact

    @Option(name: .customLong("fast-exact-shells"), help: ArgumentHelp("""
        With --method fast: measure the powers of shells 0 … K exactly by sliding DFTs \
        (default 1; --fast-exact-shells=-1: estimate every shell).
        """, valueName: "K"))
    var fastExactShellsOption: Int?

    /// Highest shell whose powers fast mode measures exactly.
    var fastExactShells: Int { fastExactShellsOption ?? 1 }

    func validate() throws {
        guard padFactor >= 1, padFactor <= 8 else {
            throw ValidationError("--pad-factor \(padFactor): must be between 1 and 8")
        }
        if method == .fast && compat != nil {
            throw ValidationError("--method fast estimates exact mode; it cannot follow --compat locscale2")
        }
        if let k = fastExactShellsOption {
            guard method == .fast else { throw ValidationError("--fast-exact-shells needs --method fast") }
            guard k >= -1 else { throw ValidationError("--fast-exact-shells \(k): must be -1 (none) or a shell number >= 0") }
        }
        if compat != nil && padFactor != 2 {
            throw ValidationError("--pad-factor has no meaning with --compat locscale2 (it never pads)")
        }
    }
}

/// What `scale` writes.
struct ScaleOutputOptions: ParsableArguments {
    @Option(name: .customLong("out"), help: ArgumentHelp(
        "Output map (MRC, mode 2, the input's geometry).",
        valueName: "out.mrc"))
    var outputPath: String?

    @Option(name: .customLong("hdf5"), help: ArgumentHelp(
        "Output HDF5 file: /map (z, y, x), /timing per rank, /provenance; /mask when the mask was computed.",
        valueName: "out.h5"))
    var hdf5Path: String?

    @Option(name: .customLong("timings-json"), help: ArgumentHelp(
        "Write the per-rank timing table as JSON.",
        valueName: "timings.json"))
    var timingsPath: String?

    @Option(name: .customLong("report"), help: ArgumentHelp(
        "Folder for a validation report of input and output (report.html, summary.json, CSV).",
        valueName: "dir"))
    var reportDirectory: String?

    @Option(name: .customLong("save-model-map"), help: ArgumentHelp(
        "With --model: also write the simulated model map.",
        valueName: "model-map.mrc"))
    var savedModelMapPath: String?

    func validate() throws {
        guard outputPath != nil || hdf5Path != nil else {
            throw ValidationError("give --out OUT.mrc, --hdf5 OUT.h5, or both")
        }
    }

    /// The files written, with the automatic mask's `--mask-out` (an input option).
    func outputs(maskOut: String?) -> ScaleOutputs {
        ScaleOutputs(map: outputPath, hdf5: hdf5Path, timingsJSON: timingsPath, reportDirectory: reportDirectory,
                     savedModelMap: savedModelMapPath, maskOut: maskOut)
    }
}

/// Threads, FFT planning and what `scale` prints while it runs.
struct ScalePerformanceOptions: ParsableArguments {
    @Option(name: .customLong("threads"), help: ArgumentHelp(
        "Threads per rank sharing its voxels (default: the cores, divided by the ranks on the node under mpirun).",
        valueName: "n"))
    var requestedThreads: Int?

    @Option(name: .customLong("fft-planning"), help: "How hard FFTW searches for fast plans (made once per run).")
    var planning: FFTPlanning = .patient

    @Option(name: .customLong("fftw-wisdom"), help: ArgumentHelp("""
        FFTW wisdom file: plans are read from it and new ones saved to it, so that runs sharing it \
        give bitwise identical maps ('none': plan afresh each run). Default: $LOCALSCALE_FFTW_WISDOM, \
        else ~/.cache/localscale/fftw-wisdom-HOST.
        """, valueName: "path"))
    var wisdomPath: String?

    @Flag(help: "Print a progress line on stderr even when it is not a terminal.")
    var progress = false

    @Flag(name: .customLong("io-floor"), help: ArgumentHelp(
        "After the run, time a plain read and write of the same bytes and print them as the floor.",
        discussion: """
        Rank 0 reads every input map once, whole, in 8 MiB blocks, and writes as many bytes as the run \
        wrote (all ranks) to OUT.io-floor.tmp-PID next to the first output, then fsyncs and removes it; \
        the "I/O:" line, HDF5 /timing (io_floor_* attributes) and --timings-json get its MB/s. Both \
        go through the page cache, as the run's I/O does: the inputs were just read by the run, so \
        the read floor is usually memory speed, not the disk's (drop the caches beforehand to \
        compare with the disk); the write floor includes fsync, like the run's. Costs about the \
        run's I/O time again and room for one more copy of the outputs.
        """))
    var ioFloor = false

    @Flag(name: .shortAndLong, help: "Print warnings and errors only.")
    var quiet = false

    func validate() throws {
        if let requestedThreads, requestedThreads < 1 {
            throw ValidationError("--threads \(requestedThreads): must be at least 1")
        }
    }

    /// Threads of this rank: `--threads`, else the cores shared by the ranks on this node.
    var threads: Int { requestedThreads ?? coresPerLocalRank() }

    /// Whether rank 0 shows a progress line.
    var showsProgress: Bool { !quiet && (progress || isatty(STDERR_FILENO) == 1) }

    /// The wisdom file to use, or nil for none.
    func wisdomFile() -> String? {
        if let wisdomPath { return wisdomPath == "none" ? nil : wisdomPath }
        if let path = ProcessInfo.processInfo.environment["LOCALSCALE_FFTW_WISDOM"], !path.isEmpty {
            return path == "none" ? nil : path
        }
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        return "\(home)/.cache/localscale/fftw-wisdom-\(ProcessInfo.processInfo.hostName)"
    }
}
