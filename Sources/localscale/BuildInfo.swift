import LocScaleCore
import LocScaleHDF5
import LocScaleParallel

/// What this binary is: its version, the git commit it was built from, and the FFTW, MPI and
/// HDF5 libraries it runs with (for `--version` and `/provenance`).
enum BuildInfo: BuildCommitFallback {
    static let version = "0.1.0"

    /// `--version`: the first line names the program, version and commit; one line per library.
    static var versionText: String {
        """
        localscale \(version) (commit \(commit))
        FFTW   \(FFTW.version)
        MPI    \(MPILibrary.version) (MPI \(MPILibrary.standard))
        HDF5   \(HDF5Library.version)
        """
    }

    /// One line for provenance records: "localscale 0.1.0 (commit C; fftw-…; Open MPI v…; HDF5 …)".
    static var provenance: String {
        "localscale \(version) (commit \(commit); \(FFTW.version); \(MPILibrary.version); HDF5 \(HDF5Library.version))"
    }
}

/// The commit when the build did not record one. `./cmake-free-build.sh` writes
/// `BuildCommit.generated.swift` (not in git) with `extension BuildInfo { static var commit }`,
/// which takes precedence over this default; a plain `swift build` has only the default.
protocol BuildCommitFallback {}

extension BuildCommitFallback {
    /// `git describe --always --dirty` of the source tree, or "unknown".
    static var commit: String { "unknown" }
}
