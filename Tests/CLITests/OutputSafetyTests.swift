import Foundation
import Testing
import LocScaleCore

/// Outputs never replace an input, and a run that fails late (a full disk) leaves every earlier
/// output as it was and no temporary file behind.
@Suite("Output safety")
struct OutputSafetyTests {
    /// Copies of the fixture's inputs in a scratch folder, so that a regression cannot harm the
    /// shipped files.
    static func inputs() throws -> Scratch {
        let scratch = Scratch()
        for name in ["em.mrc", "model.mrc", "mask.mrc"] {
            try FileManager.default.copyItem(atPath: CLITests.fixtures + "/" + name, toPath: scratch.file(name))
        }
        try FileManager.default.copyItem(atPath: CLITests.fixtures + "/../models/sim_small.pdb",
                                         toPath: scratch.file("model.pdb"))
        try FileManager.default.createSymbolicLink(atPath: scratch.file("link.mrc"), withDestinationPath: "em.mrc")
        return scratch
    }

    static let scale = ["scale", "--em", "em.mrc", "--model-map", "model.mrc", "--mask", "mask.mrc", "--window", "8"]

    static let collisions: [([String], String)] = [
        (scale + ["--out", "o.mrc", "--timings-json", "em.mrc"],
         "--timings-json em.mrc is the same file as --em em.mrc: refusing to overwrite an input"),
        (scale + ["--out", "model.mrc"], "--out model.mrc is the same file as --model-map model.mrc: refusing to overwrite an input"),
        (scale + ["--out", "./mask.mrc"], "--out ./mask.mrc is the same file as --mask mask.mrc: refusing to overwrite an input"),
        (scale + ["--out", "link.mrc"], "--out link.mrc is the same file as --em em.mrc: refusing to overwrite an input"),
        (scale + ["--out", "new.mrc", "--hdf5", "./new.mrc"], "--hdf5 ./new.mrc is the same file as --out new.mrc"),
        (scale + ["--out", "o.mrc", "--fftw-wisdom", "em.mrc"],
         "--fftw-wisdom em.mrc is the same file as --em em.mrc: refusing to overwrite an input"),
        (["scale", "--half-maps", "em.mrc", "model.mrc", "--model-map", "mask.mrc", "--out", "model.mrc"],
         "--out model.mrc is the same file as --half-maps model.mrc: refusing to overwrite an input"),
        (["simulate", "--model", "model.pdb", "--like", "em.mrc", "--out", "em.mrc"],
         "--out em.mrc is the same file as --like em.mrc: refusing to overwrite an input"),
        (["simulate", "--model", "model.pdb", "--like", "em.mrc", "--out", "model.pdb"],
         "--out model.pdb is the same file as --model model.pdb: refusing to overwrite an input"),
    ]

    @Test("an output naming an input or another output is a usage error, and nothing is written",
          arguments: collisions.indices)
    func collision(_ index: Int) throws {
        let (arguments, message) = Self.collisions[index]
        let scratch = try Self.inputs()
        let before = try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted()
        let sums = try before.map { try Data(contentsOf: URL(fileURLWithPath: scratch.file($0))) }
        let result = try CLITests.run(arguments, in: scratch.path)
        #expect(result.status == 2)
        #expect(result.stderr.split(separator: "\n").first.map(String.init) == "Error: \(message)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted() == before)
        #expect(try before.map { try Data(contentsOf: URL(fileURLWithPath: scratch.file($0))) } == sums)
    }

    /// Whether this process may mount a small tmpfs in a private mount namespace (root on Linux).
    static let canMountTmpfs: Bool = {
        guard let result = try? CLITests.launch("/usr/bin/unshare", ["-m", "sh", "-c",
            "mount -t tmpfs -o size=16k tmpfs /tmp && echo mounted"], limit: 20) else { return false }
        return result.stdout == "mounted\n"
    }()

    /// (tmpfs size in KiB, the output that no longer fits): 48 KiB holds the MRC but not the HDF5
    /// file's reservation (its data plus 64 KiB, made before parallel HDF5 starts); 160 KiB holds
    /// both, the JSON too, but not the report.
    static let fullDisks: [(Int, String)] = [
        (48, "out.h5: cannot write: No space left on device (reserving 97216 bytes)"),
        (160, "report/report.html: cannot write: No space left on device")]

    @Test("a full disk: one line, exit 1, the previous output kept, no temporary file or half report",
          .enabled(if: canMountTmpfs, "needs root to mount a tmpfs in a private mount namespace"),
          arguments: fullDisks.indices)
    func fullDisk(_ index: Int) throws {
        let (kibibytes, message) = Self.fullDisks[index]
        let folder = Scratch()
        // In a private mount namespace: a tiny tmpfs over `folder`, an old output in it, the run,
        // then what is left in the folder.
        let script = """
            mount -t tmpfs -o size=\(kibibytes)k tmpfs "$1" || exit 99
            printf 'previous output' > "$1/out.mrc"
            shift
            "$@" --out "$D/out.mrc" --hdf5 "$D/out.h5" --timings-json "$D/t.json" --report "$D/report" --quiet
            echo "status=$?"; ls -A "$D"; cat "$D/out.mrc"
            """
        let result = try CLITests.launch("/usr/bin/env", ["D=\(folder.path)", "unshare", "-m", "sh", "-c", script, "sh",
                                                          folder.path, CLITests.binary] + Self.scale,
                                         in: CLITests.fixtures)
        #expect(result.stdout == "status=1\nout.mrc\nprevious output")
        #expect(result.stderr == "localscale: error: \(folder.path)/\(message)\n")
    }

    @Test("a later run removes temporary files of its output left by a run that was killed")
    func staleTemporaries() throws {
        let scratch = Scratch()
        let out = scratch.file("out.mrc")
        var gone: Int32 = 4_000_000
        while kill(gone, 0) == 0 || errno != ESRCH { gone -= 1 }
        for pid in [gone, 1] { FileManager.default.createFile(atPath: "\(out).tmp-\(pid)", contents: Data("x".utf8)) }
        FileManager.default.createFile(atPath: scratch.file("other.mrc.tmp-\(gone)"), contents: Data("x".utf8))
        let result = try CLITests.run(Self.scale + ["--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("localscale: removed \(out).tmp-\(gone), left by a run that no longer exists\n"))
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted()
        #expect(left == ["other.mrc.tmp-\(gone)", "out.mrc", "out.mrc.tmp-1"])
    }
}
