import Foundation
import Testing
import LocScaleCore
import TestSupport

/// Every bad input gives one line naming the file and the problem, exit status 1, and leaves
/// an existing output untouched.
@Suite("Bad input")
struct BadInputTests {
    /// Makes the bad files of one case in `scratch`; returns the scale arguments to use.
    typealias Setup = @Sendable (Scratch) throws -> [String]

    static let fixtures = CLITests.fixtures

    static func variant(of name: String, _ change: (inout Volume) -> Void, in scratch: Scratch, as file: String) throws -> String {
        var volume = try MRCFile.read(path: fixtures + "/" + name).volume
        change(&volume)
        try MRCFile.write(volume, to: scratch.file(file), labels: [])
        return scratch.file(file)
    }

    static func bytes(of name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixtures + "/" + name)))
    }

    static func write(_ bytes: [UInt8], _ scratch: Scratch, _ name: String) -> String {
        FileManager.default.createFile(atPath: scratch.file(name), contents: Data(bytes))
        return scratch.file(name)
    }

    /// em.mrc with header words replaced (word number, 1-based as in MRC2014 → bit pattern),
    /// written to `scratch` as `name`.
    static func em(_ words: [Int: UInt32], _ scratch: Scratch, _ name: String) throws -> String {
        var b = try bytes(of: "em.mrc")
        for (word, bits) in words {
            for k in 0..<4 { b[4 * (word - 1) + k] = UInt8(truncatingIfNeeded: bits >> (8 * UInt32(k))) }
        }
        return write(b, scratch, name)
    }

    /// 4096 seeded random bytes, and the line that refuses them.
    static let randomBytes: (bytes: [UInt8], message: String) = {
        var generator = SplitMix64(seed: 11)
        let bytes = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let word = String(bytes[208..<212].map { (32...126).contains($0) ? Character(UnicodeScalar($0)) : "?" })
        return (bytes, "random.mrc: not an MRC/CCP4 map: word 53 is \"\(word)\", expected \"MAP \"")
    }()

    static let voxelLimits = "must be finite and between 0.001 and 1000 Å"
    static let memory = physicalMemoryBytes()

    static let cases: [(String, Setup, String)] = [
        ("missing file", { _ in ["--em", "nothere.mrc"] },
         "nothere.mrc: cannot open: No such file or directory"),
        ("not an MRC file", { s in ["--em", write(Array("hello, I am not a map\n".utf8), s, "text.mrc")] },
         "text.mrc: not an MRC/CCP4 map: 22 bytes, shorter than the 1024-byte header"),
        // A zero map word with a sensible header is an old CCP4 map (read with a warning, see
        // ReaderWarningTests); random bytes are not a map.
        ("random bytes", { s in ["--em", write(randomBytes.bytes, s, "random.mrc")] }, randomBytes.message),
        ("truncated data", { s in ["--em", write(Array(try bytes(of: "em.mrc").prefix(5000)), s, "short.mrc")] },
         "short.mrc: data truncated: the header promises 31680 bytes of data, the file holds 3976"),
        ("unsupported mode", { s in
            var b = try bytes(of: "em.mrc"); b[12] = 3
            return ["--em", write(b, s, "mode3.mrc")] },
         "mode3.mrc: unsupported MRC mode 3 (readable: 0, 1, 2, 6, 12)"),
        ("shape mismatch", { _ in ["--model-map", "b_model.mrc"] },
         "b_model.mrc: shape 19×21×16 voxels differs from em.mrc's 22×18×20 voxels"),
        ("voxel size mismatch", { s in
            ["--model-map", try variant(of: "model.mrc", { $0.grid.voxelSize = XYZ(1.25, 1.2, 1.2) }, in: s, as: "apix.mrc")] },
         "apix.mrc: voxel size 1.25×1.2×1.2 Å differs from em.mrc's 1.2×1.2×1.2 Å"),
        ("origin mismatch", { s in
            ["--mask", try variant(of: "mask.mrc", { $0.grid.origin = XYZ(0, 0, 0) }, in: s, as: "origin.mrc")] },
         "origin.mrc: origin (0, 0, 0) Å differs from em.mrc's (-7.5, 3, 12.25) Å"),
        ("empty mask", { s in
            ["--mask", try variant(of: "mask.mrc", { $0.values = $0.values.map { min($0, 0.49) } }, in: s, as: "empty.mrc")] },
         "empty.mrc: empty mask: no voxel is >= 0.5"),
        ("window too small", { _ in ["--window", "3"] },
         "--window 3: the window must be at least 4 voxels"),
        ("window larger than the box", { _ in ["--window", "19"] },
         "--window 19: larger than the smallest box dimension of em.mrc (22×18×20 voxels)"),
        ("NaN in the map", { s in
            ["--em", try variant(of: "em.mrc", { $0[3, 4, 5] = .nan }, in: s, as: "nan.mrc")] },
         "nan.mrc: nan at voxel (x, y, z) = (3, 4, 5); maps must be finite"),
        ("box of 2^21 cubed", { s in ["--em", try em([1: 1 << 21, 2: 1 << 21, 3: 1 << 21], s, "big.mrc")] },
         "\(MRCError.boxTooLarge(path: "big.mrc", nx: 1 << 21, ny: 1 << 21, nz: 1 << 21, limitBytes: memory))"),
        ("4.4 TB promised over a sparse file of that size", { s in
            let path = try em([1: 10_300, 2: 10_300, 3: 10_300], s, "sparse.mrc")
            guard truncate(path, off_t(1024 + 10_300 * 10_300 * 10_300 * 4)) == 0 else { throw CocoaError(.fileWriteUnknown) }
            return ["--em", path] },
         "\(MRCError.boxTooLarge(path: "sparse.mrc", nx: 10_300, ny: 10_300, nz: 10_300, limitBytes: memory))"),
        ("extended header of 2^31 - 1 bytes", { s in ["--em", try em([24: UInt32(Int32.max)], s, "nsymbt.mrc")] },
         "nsymbt.mrc: data truncated: the header promises 31680 bytes of data, the file holds 0"),
        ("negative extended header size", { s in ["--em", try em([24: UInt32(bitPattern: -4)], s, "nsymbt.mrc")] },
         "nsymbt.mrc: invalid extended header size NSYMBT = -4 bytes (expected ≥ 0)"),
        ("voxel size 0", { s in ["--em", try em([11: Float(0).bitPattern], s, "apix0.mrc")] },
         "apix0.mrc: voxel size 0 Å along x (CELLA 0 / MX 22): \(voxelLimits)"),
        ("voxel size NaN", { s in ["--model-map", try em([12: Float.nan.bitPattern], s, "apixnan.mrc")] },
         "apixnan.mrc: voxel size nan Å along y (CELLA nan / MY 18): \(voxelLimits)"),
        ("negative voxel size", { s in ["--mask", try em([13: Float(-24).bitPattern], s, "apixneg.mrc")] },
         "apixneg.mrc: voxel size -1.2 Å along z (CELLA -24 / MZ 20): \(voxelLimits)"),
        ("voxel size 1e-30 Å", { s in ["--em", try em([11: Float(22e-30).bitPattern], s, "apixtiny.mrc")] },
         "apixtiny.mrc: voxel size 1e-30 Å along x (CELLA 2.2e-29 / MX 22): \(voxelLimits)"),
        ("NaN origin", { s in ["--model-map", try em([51: Float.nan.bitPattern], s, "originnan.mrc")] },
         "originnan.mrc: ORIGIN (-7.5, nan, 12.25) Å is not finite"),
        ("non-orthogonal cell", { s in ["--em", try em([16: Float(120).bitPattern], s, "hexagonal.mrc")] },
         "hexagonal.mrc: cell angles 90, 90, 120° are not 90°: the program assumes an orthogonal grid"),
        ("stack of volumes", { s in ["--em", try em([23: 401, 10: 10], s, "stack.mrc")] },
         "stack.mrc: a stack of volumes (ISPG 401, NZ 20 = volumes × MZ 10): localscale reads one volume; split the stack first"),
        ("FIFO", { s in
            guard mkfifo(s.file("fifo.mrc"), 0o600) == 0 else { throw CocoaError(.fileWriteUnknown) }
            return ["--mask", s.file("fifo.mrc")] },
         "fifo.mrc: cannot open: not a regular file (a FIFO)"),
    ]

    @Test("one line, exit 1, the old output kept", arguments: cases.indices)
    func badInput(_ index: Int) throws {
        let (name, setup, message) = Self.cases[index]
        let scratch = Scratch()
        let out = scratch.file("out.mrc")
        try Data("previous good output".utf8).write(to: URL(fileURLWithPath: out))
        var arguments = ["scale", "--em", "em.mrc", "--model-map", "model.mrc", "--mask", "mask.mrc", "--window", "8", "--out", out]
        let changes = try setup(scratch)
        for pair in stride(from: 0, to: changes.count, by: 2) {
            if let at = arguments.firstIndex(of: changes[pair]) { arguments[at + 1] = changes[pair + 1] }
            else { arguments += [changes[pair], changes[pair + 1]] }
        }
        let result = try CLITests.run(arguments)
        let stderr = result.stderr.replacingOccurrences(of: scratch.path + "/", with: "")
        #expect(result.status == 1, "\(name)")
        #expect(stderr == "localscale: error: \(message)\n", "\(name)")
        let kept = try String(contentsOfFile: out, encoding: .utf8)
        #expect(kept == "previous good output", "\(name)")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty, "\(name)")
    }
}

/// What `info`, `validate` and `simulate` do with the headers that `scale` refuses, and the
/// warnings of the readers.
@Suite("Bad headers in other commands")
struct BadHeaderCommandTests {
    /// Runs `arguments` in a scratch folder holding `apix0.mrc` (voxel size 0 along x) and
    /// `big.mrc` (2^21 voxels a side); the scratch path is removed from stderr.
    private func run(_ arguments: (Scratch) -> [String]) throws -> CLITests.Result {
        let scratch = Scratch()
        _ = try BadInputTests.em([11: Float(0).bitPattern], scratch, "apix0.mrc")
        _ = try BadInputTests.em([1: 1 << 21, 2: 1 << 21, 3: 1 << 21], scratch, "big.mrc")
        let result = try CLITests.run(arguments(scratch))
        return CLITests.Result(status: result.status, stdout: result.stdout,
                               stderr: result.stderr.replacingOccurrences(of: scratch.path + "/", with: ""))
    }

    static let voxelLine = "apix0.mrc: voxel size 0 Å along x (CELLA 0 / MX 22): \(BadInputTests.voxelLimits)"

    @Test("validate and simulate --like refuse a bad geometry with one line")
    func refused() throws {
        for arguments in [
            { (s: Scratch) in ["validate", "--map", s.file("apix0.mrc"), "--model-map", "model.mrc"] },
            { (s: Scratch) in ["validate", "--map", "em.mrc", "--model-map", "model.mrc", "--mask", s.file("apix0.mrc")] },
            { (s: Scratch) in ["simulate", "--model", "../models/small.pdb", "--like", s.file("apix0.mrc"),
                               "--resolution", "3", "--out", s.file("out.mrc")] },
        ] {
            let result = try run(arguments)
            #expect(result.status == 1)
            #expect(result.stderr == "localscale: error: \(Self.voxelLine)\n")
        }
        let big = try run { s in ["simulate", "--model", "../models/small.pdb", "--like", s.file("big.mrc"),
                                  "--resolution", "3", "--out", s.file("out.mrc")] }
        #expect(big.status == 1)
        #expect(big.stderr == "localscale: error: \(MRCError.boxTooLarge(path: "big.mrc", nx: 1 << 21, ny: 1 << 21, nz: 1 << 21, limitBytes: BadInputTests.memory))\n")
    }

    @Test("info shows a bad geometry with a warning, and refuses an unreadable header")
    func info() throws {
        let shown = try run { s in ["info", s.file("apix0.mrc")] }
        #expect(shown.status == 0)
        #expect(shown.stderr == "localscale: warning: \(Self.voxelLine)\n")
        #expect(shown.stdout.contains("voxel size     0 × 1.2 × 1.2 Å\n"))
        let big = try run { s in ["info", s.file("big.mrc")] }
        #expect(big.status == 1)
        #expect(big.stdout.isEmpty)
        #expect(big.stderr == "localscale: error: \(MRCError.boxTooLarge(path: "big.mrc", nx: 1 << 21, ny: 1 << 21, nz: 1 << 21, limitBytes: BadInputTests.memory))\n")
    }

    @Test("a MotionCor2 or old CCP4 map word is read with a warning and gives the same output",
          arguments: [([UInt8]("MAP".utf8) + [0], "word 53 is \"MAP\\0\" (as MotionCor2 writes it), not \"MAP \"; read as a map"),
                      ([0, 0, 0, 0], "word 53 is \"????\", not \"MAP \"; read as an old CCP4 map without the map word")])
    func tolerated(word: [UInt8], warning: String) throws {
        let scratch = Scratch()
        var bytes = try BadInputTests.bytes(of: "em.mrc")
        bytes.replaceSubrange(208..<212, with: word)
        let em = BadInputTests.write(bytes, scratch, "word.mrc")
        let result = try CLITests.scale(["--window", "8"], em: em, out: scratch.file("word-out.mrc"))
        #expect(result.status == 0)
        #expect(result.stderr == "localscale: warning: \(em): \(warning)\n")
        let reference = try CLITests.scale(["--window", "8"], out: scratch.file("out.mrc"))
        #expect(reference.status == 0)
        #expect(try CLITests.dataBytes(scratch.file("word-out.mrc")) == CLITests.dataBytes(scratch.file("out.mrc")))
    }
}
