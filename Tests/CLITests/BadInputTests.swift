import Foundation
import Testing
import LocScaleCore

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

    static let cases: [(String, Setup, String)] = [
        ("missing file", { _ in ["--em", "nothere.mrc"] },
         "nothere.mrc: cannot open: No such file or directory"),
        ("not an MRC file", { s in ["--em", write(Array("hello, I am not a map\n".utf8), s, "text.mrc")] },
         "text.mrc: not an MRC/CCP4 map: 22 bytes, shorter than the 1024-byte header"),
        ("bad MAP word", { s in
            var b = try bytes(of: "em.mrc"); b.replaceSubrange(208..<212, with: [0, 0, 0, 0])
            return ["--em", write(b, s, "nomap.mrc")] },
         "nomap.mrc: not an MRC/CCP4 map: word 53 is \"????\", expected \"MAP \""),
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
