import Foundation
import Testing

/// Where the repository and the static binary are.
enum StaticBinary {
    static let root = URL(fileURLWithPath: CLITests.fixtures).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    /// $LOCALSCALE_STATIC_BIN, else what `./cmake-free-build.sh static` builds.
    static let path = ProcessInfo.processInfo.environment["LOCALSCALE_STATIC_BIN"]
        ?? root + "/.build-static/release/localscale"

    /// A build linked against the toolchain's Swift runtime to compare with: the binary under
    /// test, else the release build, else the debug build (`swift test` makes it).
    static let dynamic: String? = [CLITests.binary, root + "/.build/release/localscale", root + "/.build/debug/localscale"]
        .first { path in
            FileManager.default.isExecutableFile(atPath: path)
                && (try? CLITests.launch("ldd", [path]).stdout.contains("libswiftCore.so")) == true
        }
}

/// The binary of `./cmake-free-build.sh static` on a node without a Swift toolchain: run with an
/// empty environment (`env -i PATH=/usr/bin:/bin`), it needs no Swift runtime and writes the same map.
@Suite("static binary", .serialized,
       .enabled(if: FileManager.default.isExecutableFile(atPath: StaticBinary.path),
                Comment(rawValue: "no static binary at \(StaticBinary.path) (./cmake-free-build.sh static)")))
struct StaticBinaryTests {
    static let binary = StaticBinary.path

    /// `env -i PATH=/usr/bin:/bin VARIABLES… COMMAND…`: nothing of the toolchain or the caller's environment.
    static func bare(_ command: [String], variables: [String] = []) throws -> CLITests.Result {
        try CLITests.launch("/usr/bin/env", ["-i", "PATH=/usr/bin:/bin"] + variables + command)
    }

    @Test("ldd lists MPI, FFTW and HDF5 but no Swift runtime library")
    func noSwiftRuntime() throws {
        let ldd = try Self.bare(["ldd", Self.binary])
        #expect(ldd.status == 0, "\(ldd.stderr)")
        for library in ["libmpi.so", "libfftw3f.so", "libhdf5_openmpi.so"] {
            #expect(ldd.stdout.contains(library), "\(ldd.stdout)")
        }
        for runtime in ["libswift", "libFoundation", "libdispatch", "libBlocksRuntime", "/opt/swift", "not found"] {
            #expect(!ldd.stdout.contains(runtime), "\(runtime) in \(ldd.stdout)")
        }
    }

    @Test("with no toolchain in sight it prints its version and writes the dynamic build's map, bit for bit, on 1 and 2 ranks")
    func sameMap() throws {
        let scratch = Scratch()
        let common = ["scale", "--em", "em.mrc", "--model-map", "model.mrc", "--mask", "mask.mrc", "--window", "8",
                      "--fftw-wisdom", scratch.file("wisdom"), "--quiet", "--out"]
        let dynamicBinary = try #require(StaticBinary.dynamic, "no build linked against the Swift runtime to compare with")
        let dynamic = try CLITests.launch(dynamicBinary, common + [scratch.file("dynamic.mrc")])
        #expect(dynamic.status == 0, "\(dynamic.stderr)")
        let version = try Self.bare([Self.binary, "--version"])
        #expect(version.status == 0, "\(version.stderr)")
        // The same libraries as the dynamic build (the commits may differ).
        let libraries = try CLITests.launch(dynamicBinary, ["--version"]).stdout.split(separator: "\n").dropFirst()
        #expect(version.stdout.split(separator: "\n").dropFirst() == libraries)
        #expect(version.stdout.hasPrefix("localscale \(VersionTests.version) (commit "))
        let one = try Self.bare([Self.binary] + common + [scratch.file("static.mrc")])
        #expect(one.status == 0, "\(one.stderr)")
        let two = try Self.bare(["mpirun", "-np", "2", Self.binary] + common + [scratch.file("static-np2.mrc")],
                                variables: CLITests.mpiEnvironment.map { "\($0.key)=\($0.value)" })
        #expect(two.status == 0, "\(two.stderr)")
        let expected = try CLITests.dataBytes(scratch.file("dynamic.mrc"))
        #expect(try CLITests.dataBytes(scratch.file("static.mrc")) == expected)
        #expect(try CLITests.dataBytes(scratch.file("static-np2.mrc")) == expected)
    }
}
