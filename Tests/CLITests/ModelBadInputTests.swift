import Foundation
import Testing
import LocScaleCore

/// Hostile atomic models through the CLI: `simulate` and `scale --model` print one line naming
/// the file and the problem, exit 1 and write nothing.
@Suite("Bad atomic models (simulate, scale --model)")
struct ModelBadInputTests {
    /// A PDB file of three atoms inside em.mrc's box, ALA A 3, the CA (serial 2) given `x`, `b`, `occupancy`.
    static func model(x: String = "6.000", b: String = "20.00", occupancy: String = "1.00",
                      allOccupancies: String? = nil) -> Data {
        func right(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
        func line(_ serial: Int, _ name: String, _ x: String, _ y: String, _ z: String, _ occupancy: String,
                  _ b: String) -> String {
            "ATOM  " + right(String(serial), 5) + "  " + name.padding(toLength: 4, withPad: " ", startingAt: 0)
                + "ALA A   3    " + right(x, 8) + right(y, 8) + right(z, 8) + right(allOccupancies ?? occupancy, 6)
                + right(b, 6) + "           C\n"
        }
        return Data((line(1, "N", "5.000", "10.000", "20.000", "1.00", "20.00")
            + line(2, "CA", x, "11.000", "21.000", occupancy, b)
            + line(3, "C", "7.000", "12.000", "22.000", "1.00", "20.00") + "END\n").utf8)
    }

    /// (file name, contents — nil for a directory —, the line after "localscale: error: ").
    static let cases: [(String, Data?, String)] = [
        ("nan.pdb", model(x: "nan"), "nan.pdb: atom 2 (CA ALA A 3): x coordinate nan Å is not finite"),
        ("inf.pdb", model(x: "-inf"), "inf.pdb: atom 2 (CA ALA A 3): x coordinate -inf Å is not finite"),
        ("far.pdb", model(x: "1e30"), "far.pdb: atom 2 (CA ALA A 3): x coordinate 1e+30 Å is beyond ±1000000 Å"),
        ("b30.pdb", model(b: "1e30"), "b30.pdb: atom 2 (CA ALA A 3): B factor 1e+30 Å² is above 1000 Å²"),
        ("b8.pdb", model(b: "1e8"), "b8.pdb: atom 2 (CA ALA A 3): B factor 1e+08 Å² is above 1000 Å²"),
        ("bneg6.pdb", model(b: "-1e6"), "bneg6.pdb: atom 2 (CA ALA A 3): B factor -1000000 Å² is negative"),
        ("bneg.pdb", model(b: "-999"), "bneg.pdb: atom 2 (CA ALA A 3): B factor -999 Å² is negative"),
        ("occnan.pdb", model(occupancy: "nan"), "occnan.pdb: atom 2 (CA ALA A 3): occupancy nan is not finite"),
        ("occneg.pdb", model(allOccupancies: "-1.00"), "occneg.pdb: atom 1 (N ALA A 3): occupancy -1 is negative"),
        ("occ0.pdb", model(allOccupancies: "0.00"),
         "occ0.pdb: all 3 atoms of model 1 have zero occupancy (the model map would be zero)"),
        ("dir.pdb", nil, "dir.pdb: is a directory"),
        ("bad.pdb.gz", Data([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff]),
         "bad.pdb.gz: corrupt gzip data: invalid block type"),
        ("noise.pdb", Data((0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ 13) }),
         "noise.pdb: not a PDB or mmCIF file (binary data at byte 8)"),
    ]

    @Test("one line naming the file, the atom and the value; exit 1; no output", arguments: cases.indices)
    func refused(index: Int) throws {
        let (name, contents, line) = Self.cases[index]
        let scratch = Scratch()
        if let contents {
            #expect(FileManager.default.createFile(atPath: scratch.file(name), contents: contents))
        } else {
            try FileManager.default.createDirectory(atPath: scratch.file(name), withIntermediateDirectories: false)
        }
        let em = CLITests.fixtures + "/em.mrc", mask = CLITests.fixtures + "/mask.mrc"
        let commands = [
            ["simulate", "--model", name, "--like", em, "--out", "out.mrc"],
            ["scale", "--em", em, "--model", name, "--mask", mask, "--window", "8", "--out", "out.mrc"],
        ]
        for arguments in commands {
            let result = try CLITests.run(arguments, in: scratch.path)
            #expect(result.status == 1, "\(arguments[0])")
            #expect(result.stderr == "localscale: error: \(line)\n", "\(arguments[0])")
            #expect(!FileManager.default.fileExists(atPath: scratch.file("out.mrc")))
        }
    }

    @Test("the same model with sane values is simulated")
    func sane() throws {
        let scratch = Scratch()
        #expect(FileManager.default.createFile(atPath: scratch.file("ok.pdb"), contents: Self.model()))
        let result = try CLITests.run(["simulate", "--model", "ok.pdb", "--like", CLITests.fixtures + "/em.mrc",
                                       "--out", "out.mrc"], in: scratch.path)
        #expect(result.status == 0, "\(result.stderr)")
        let values = try MRCFile.read(path: scratch.file("out.mrc")).volume.values
        #expect(values.allSatisfy { $0.isFinite } && values.max()! > 0.1)
    }
}
