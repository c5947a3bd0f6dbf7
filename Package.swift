// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "localscale",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "localscale", targets: ["localscale"]),
        .library(name: "LocScaleCore", targets: ["LocScaleCore"]),
        .library(name: "LocScaleEngine", targets: ["LocScaleEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // Thin system-library modules: a module map and a shim header each.
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .systemLibrary(name: "CFFTW", path: "Sources/CFFTW", pkgConfig: "fftw3f",
                       providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "CFFTWMPI", path: "Sources/CFFTWMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libfftw3-mpi-dev"])]),
        // The Open MPI flavour of HDF5 (parallel /map writes); a single process uses it serially.
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5-openmpi",
                       providers: [.apt(["libhdf5-openmpi-dev"])]),
        // gemmi (Debian gemmi-dev, header-only C++17; needs tao-pegtl-dev and zlib1g-dev) behind
        // a plain C API: PDB / mmCIF / .gz readers and electron form factors. Links z (gz) and
        // m (else `round` is unresolved).
        .target(name: "CGemmi", path: "Sources/CGemmi",
                linkerSettings: [.linkedLibrary("z"), .linkedLibrary("m")]),

        // The science: grids, MRC, shells, the window scaler. Knows nothing of MPI.
        .target(name: "LocScaleCore",
                dependencies: ["CFFTW", "CGemmi", .product(name: "Logging", package: "swift-log")]),
        // Distribution over MPI ranks. Knows nothing of Fourier shells.
        .target(name: "LocScaleParallel", dependencies: ["CMPI", "CFFTWMPI", "LocScaleCore"]),
        // HDF5 output (map, timings, provenance); `/map` also collectively by slabs.
        .target(name: "LocScaleHDF5", dependencies: ["CHDF5", "LocScaleCore", "LocScaleParallel"]),
        // The run as a library: job descriptions -> scale, simulate, validate on a communicator.
        // Knows no command-line parsing.
        .target(name: "LocScaleEngine", dependencies: [
            "LocScaleCore", "LocScaleParallel", "LocScaleHDF5", .product(name: "Logging", package: "swift-log"),
        ]),
        // The command line: parses options into a job, runs it, prints.
        .executableTarget(name: "localscale", dependencies: [
            "LocScaleCore", "LocScaleParallel", "LocScaleHDF5", "LocScaleEngine",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Benchmarks (benchmarks/RESULTS.md): run with `swift run -c release NAME`.
        .executableTarget(name: "localscale-kernel-bench", dependencies: ["LocScaleCore"],
                          path: "benchmarks/KernelBench"),
        // The local B map against a known B field, and its cost (benchmarks/RESULTS.md "Local B"):
        // `localscale-bfactor-bench EM MODEL MASK OUTDIR [sample] [threads] [repeats] [strides]`.
        .executableTarget(name: "localscale-bfactor-bench", dependencies: ["LocScaleCore"],
                          path: "benchmarks/BFactorBench"),
        // Reads a map by z-slabs on every rank and writes it back with MPI-IO (Tests/ParallelTests,
        // benchmarks/RESULTS.md "Slab I/O"): `mpirun -np N localscale-slab-io-check IN OUT [--hdf5]`.
        .executableTarget(name: "localscale-slab-io-check",
                          dependencies: ["LocScaleCore", "LocScaleParallel", "LocScaleHDF5"],
                          path: "benchmarks/SlabIOCheck"),

        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "LocScaleCoreTests", dependencies: ["LocScaleCore", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["LocScaleCore", "LocScaleHDF5", "TestSupport"]),
        .testTarget(name: "ParallelTests", dependencies: ["LocScaleParallel", "LocScaleCore"]),
        .testTarget(name: "ModelTests", dependencies: ["LocScaleCore"]),
        .testTarget(name: "EngineTests", dependencies: [
            "LocScaleEngine", "LocScaleCore", "LocScaleParallel", "TestSupport",
            .product(name: "Logging", package: "swift-log"),
        ]),
    ],
    cxxLanguageStandard: .cxx17
)
