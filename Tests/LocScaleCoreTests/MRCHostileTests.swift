import Foundation
import Testing
import TestSupport
@testable import LocScaleCore

/// em.mrc (22 × 18 × 20 voxels of 1.2 Å, origin (-7.5, 3, 12.25) Å) with some of its 32-bit
/// header words replaced: word number (1-based, as in MRC2014) → bit pattern.
private func emBytes(_ words: [Int: UInt32] = [:]) throws -> [UInt8] {
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("em.mrc"))))
    for (word, bits) in words {
        for b in 0..<4 { bytes[4 * (word - 1) + b] = UInt8(truncatingIfNeeded: bits >> (8 * UInt32(b))) }
    }
    return bytes
}

private func int(_ value: Int32) -> UInt32 { UInt32(bitPattern: value) }
private func real(_ value: Float) -> UInt32 { value.bitPattern }
/// The 4 bytes of a map word as one little-endian word.
private func text(_ bytes: [UInt8]) -> UInt32 { bytes.reversed().reduce(0) { $0 << 8 | UInt32($1) } }

/// Writes `bytes` as `bad.mrc` in `scratch` and returns its path.
private func file(_ bytes: [UInt8], in scratch: ScratchDirectory) -> String {
    let path = scratch.file("bad.mrc")
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
    return path
}

/// A header change and the one line `MRCFile.read` must refuse it with (file named bad.mrc).
struct RefusedHeader: Sendable, CustomStringConvertible {
    let description: String
    let words: [Int: UInt32]
    let message: String
}

/// A header change `MRCFile.read` must accept, with the warnings it must give.
struct ToleratedHeader: Sendable, CustomStringConvertible {
    let description: String
    let words: [Int: UInt32]
    let warnings: [String]
}

@Suite("MRC hostile headers")
struct MRCHostileTests {
    static let memory = physicalMemoryBytes()
    static let limits = "must be finite and between 0.001 and 1000 Å"

    static let refused: [RefusedHeader] = [
        RefusedHeader(description: "NX = NY = NZ = 2^21", words: [1: 1 << 21, 2: 1 << 21, 3: 1 << 21],
                      message: "\(MRCError.boxTooLarge(path: "bad.mrc", nx: 1 << 21, ny: 1 << 21, nz: 1 << 21, limitBytes: memory))"),
        RefusedHeader(description: "NX = NY = NZ = Int32.max (bytes overflow Int)",
                      words: [1: int(.max), 2: int(.max), 3: int(.max)],
                      message: "\(MRCError.boxTooLarge(path: "bad.mrc", nx: .max, ny: .max, nz: .max, limitBytes: memory))"),
        RefusedHeader(description: "NSYMBT = Int32.max", words: [24: int(.max)],
                      message: "bad.mrc: data truncated: the header promises 31680 bytes of data, the file holds 0"),
        RefusedHeader(description: "negative NSYMBT", words: [24: int(-4)],
                      message: "bad.mrc: invalid extended header size NSYMBT = -4 bytes (expected ≥ 0)"),
        RefusedHeader(description: "negative NX", words: [1: int(-5)],
                      message: "bad.mrc: invalid box NX, NY, NZ = -5, 18, 20"),
        RefusedHeader(description: "voxel size 0", words: [11: real(0)],
                      message: "bad.mrc: voxel size 0 Å along x (CELLA 0 / MX 22): \(limits)"),
        RefusedHeader(description: "voxel size NaN", words: [12: real(.nan)],
                      message: "bad.mrc: voxel size nan Å along y (CELLA nan / MY 18): \(limits)"),
        RefusedHeader(description: "negative voxel size", words: [13: real(-24)],
                      message: "bad.mrc: voxel size -1.2 Å along z (CELLA -24 / MZ 20): \(limits)"),
        RefusedHeader(description: "infinite voxel size", words: [11: real(.infinity)],
                      message: "bad.mrc: voxel size inf Å along x (CELLA inf / MX 22): \(limits)"),
        RefusedHeader(description: "voxel size 1e-30 / 22", words: [11: real(1e-30)],
                      message: "bad.mrc: voxel size 4.545e-32 Å along x (CELLA 1e-30 / MX 22): \(limits)"),
        RefusedHeader(description: "voxel size 1e30 / 18", words: [12: real(1e30)],
                      message: "bad.mrc: voxel size 5.556e+28 Å along y (CELLA 1e+30 / MY 18): \(limits)"),
        RefusedHeader(description: "voxel size 2000 Å", words: [13: real(40_000)],
                      message: "bad.mrc: voxel size 2000 Å along z (CELLA 40000 / MZ 20): \(limits)"),
        RefusedHeader(description: "NaN origin", words: [50: real(.nan)],
                      message: "bad.mrc: ORIGIN (nan, 3, 12.25) Å is not finite"),
        RefusedHeader(description: "infinite origin", words: [52: real(-.infinity)],
                      message: "bad.mrc: ORIGIN (-7.5, 3, -inf) Å is not finite"),
        RefusedHeader(description: "hexagonal cell", words: [16: real(120)],
                      message: "bad.mrc: cell angles 90, 90, 120° are not 90°: the program assumes an orthogonal grid"),
        RefusedHeader(description: "NaN cell angle", words: [14: real(.nan)],
                      message: "bad.mrc: cell angles nan, 90, 90° are not 90°: the program assumes an orthogonal grid"),
        RefusedHeader(description: "angle 90.02°", words: [15: real(90.02)],
                      message: "bad.mrc: cell angles 90, 90.02, 90° are not 90°: the program assumes an orthogonal grid"),
        RefusedHeader(description: "ISPG 401 stack of two volumes", words: [23: 401, 10: 10],
                      message: "bad.mrc: a stack of volumes (ISPG 401, NZ 20 = volumes × MZ 10): localscale reads one volume; split the stack first"),
        RefusedHeader(description: "no map word and an unreadable mode", words: [53: 0, 4: 3],
                      message: "bad.mrc: not an MRC/CCP4 map: word 53 is \"????\", expected \"MAP \""),
    ]

    @Test("a hostile header is refused with one line", arguments: refused)
    func refusedHeader(_ header: RefusedHeader) throws {
        let scratch = ScratchDirectory()
        let path = file(try emBytes(header.words), in: scratch)
        for read in [{ _ = try MRCFile.read(path: path) }, { _ = try MRCFile.readHeader(path: path) }] {
            do {
                try read()
                Issue.record("accepted")
            } catch let error as MRCError {
                #expect("\(error)".replacingOccurrences(of: scratch.path + "/", with: "") == header.message)
            }
        }
    }

    static let tolerated: [ToleratedHeader] = [
        ToleratedHeader(description: "MotionCor2's MAP\\0", words: [53: text(Array("MAP".utf8) + [0])],
                        warnings: ["bad.mrc: word 53 is \"MAP\\0\" (as MotionCor2 writes it), not \"MAP \"; read as a map"]),
        ToleratedHeader(description: "an old CCP4 map: no map word, no machine stamp", words: [53: 0, 54: 0],
                        warnings: ["bad.mrc: word 53 is \"????\", not \"MAP \"; read as an old CCP4 map without the map word"]),
        ToleratedHeader(description: "cell angles 0, 0, 0", words: [14: 0, 15: 0, 16: 0], warnings: []),
        ToleratedHeader(description: "cell angle 89.995°", words: [16: real(89.995)], warnings: []),
        ToleratedHeader(description: "ISPG 401 stack of one volume", words: [23: 401], warnings: []),
        ToleratedHeader(description: "MX = 0 (voxel size from the box)", words: [8: 0], warnings: []),
        ToleratedHeader(description: "voxel sizes near the limits", words: [11: real(0.0221), 12: real(18_000)], warnings: []),
    ]

    @Test("a tolerated header gives em.mrc's values, with its warnings", arguments: tolerated)
    func toleratedHeader(_ header: ToleratedHeader) throws {
        let scratch = ScratchDirectory()
        let map = try MRCFile.read(path: file(try emBytes(header.words), in: scratch))
        let em = try MRCFile.read(path: Fixtures.path("em.mrc"))
        #expect(map.volume.values == em.volume.values)
        #expect(map.volume.grid.shape == em.volume.grid.shape)
        #expect(map.volume.grid.cellAngles.array.allSatisfy { abs($0 - 90) < 0.01 })
        #expect(map.header.warnings.map { $0.replacingOccurrences(of: scratch.path + "/", with: "") } == header.warnings)
    }

    /// Inputs with which libFuzzer trapped the reader before its sizes were checked (fuzz/README.md).
    static let fuzzerFinds: [String] = {
        let folder = Fixtures.directory + "/../mrc-fuzz"
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted().map { folder + "/" + $0 }
    }()

    @Test("inputs the fuzzer found are refused with one line", arguments: fuzzerFinds)
    func fuzzerFind(_ path: String) throws {
        #expect(Self.fuzzerFinds.count == 17)
        #expect(throws: MRCError.self) { try MRCFile.read(path: path) }
        #expect(throws: MRCError.self) { try MRCFile.readHeader(path: path) }
    }

    @Test("random bytes are not a map")
    func randomBytes() throws {
        var generator = SplitMix64(seed: 11)
        let bytes = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let scratch = ScratchDirectory()
        let printable = String(bytes[208..<212].map { (32...126).contains($0) ? Character(UnicodeScalar($0)) : "?" })
        #expect(throws: MRCError.notMRC(path: scratch.file("bad.mrc"), mapWord: printable)) {
            try MRCFile.read(path: file(bytes, in: scratch))
        }
    }

    @Test("geometry: .warn reads a bad geometry and lists its problems, for info")
    func warnedGeometry() throws {
        let scratch = ScratchDirectory()
        let path = file(try emBytes([11: real(0), 50: real(.nan)]), in: scratch)
        let map = try MRCFile.read(path: path, geometry: .warn)
        #expect(map.header.warnings == [
            "\(path): voxel size 0 Å along x (CELLA 0 / MX 22): \(Self.limits)",
            "\(path): ORIGIN (nan, 3, 12.25) Å is not finite",
        ])
        #expect(map.volume.values == (try MRCFile.read(path: Fixtures.path("em.mrc"))).volume.values)
    }

    @Test("a header promising 4.4 TB over a sparse file of that size is refused before allocating")
    func sparseFile() throws {
        let scratch = ScratchDirectory()
        let path = file(try emBytes([1: 10_300, 2: 10_300, 3: 10_300]), in: scratch)
        let dataBytes = 10_300 * 10_300 * 10_300 * 4
        #expect(truncate(path, off_t(MRCHeader.byteCount + dataBytes)) == 0)
        let expected = MRCError.boxTooLarge(path: path, nx: 10_300, ny: 10_300, nz: 10_300, limitBytes: Self.memory)
        #expect(throws: expected) { try MRCFile.read(path: path) }
        #expect(throws: expected) { try MRCFile.readHeader(path: path) }
    }

    @Test("the memory limit's line")
    func memoryLimitMessage() throws {
        let header = try MRCHeader(bytes: try emBytes([1: 10_300, 2: 10_300, 3: 10_300]), path: "x.mrc")
        let error = #expect(throws: MRCError.self) {
            try DataLayout(header: header, fileSize: .max, path: "x.mrc", memoryBytes: 16_000_000_000)
        }
        #expect(error?.description == "x.mrc: box NX, NY, NZ = 10300, 10300, 10300 needs 4370.908 GB as 32-bit floats, "
                + "more than the 16 GB of physical memory")
        // A map that fits is laid out after the extended header.
        let fits = try DataLayout(header: header, fileSize: .max, path: "x.mrc", memoryBytes: 4_400_000_000_000)
        #expect(fits.offset == 1024 && fits.voxelCount == 10_300 * 10_300 * 10_300 && fits.sectionBytes == 10_300 * 10_300 * 4)
    }

    @Test("a FIFO, a device and a directory are refused at once", .timeLimit(.minutes(1)))
    func nonRegularFiles() throws {
        let scratch = ScratchDirectory()
        let fifo = scratch.file("fifo.mrc")
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(throws: MRCError.cannotOpen(path: fifo, reason: "not a regular file (a FIFO)")) {
            try MRCFile.read(path: fifo)
        }
        #expect(throws: MRCError.cannotOpen(path: "/dev/zero", reason: "not a regular file (a character device)")) {
            try MRCFile.readHeader(path: "/dev/zero")
        }
        #expect(throws: MRCError.cannotOpen(path: scratch.path, reason: "is a directory")) {
            try MRCFile.read(path: scratch.path)
        }
    }

    /// Header words worth trying: zero, ±1, extremes, powers of two, special floats.
    static let interestingWords: [UInt32] = [
        0, 1, int(-1), int(.max), int(.min), 1 << 21, 1 << 30, 401, 0x4444, 0x1111,
        real(.nan), real(.infinity), real(-.infinity), real(1e-30), real(1e30), real(-1), real(90), real(120),
        text(Array("MAP ".utf8)), text(Array("MAP".utf8) + [0]),
    ]

    /// The number of mutated headers to read: `LOCALSCALE_HEADER_MUTATIONS`, else 2000.
    static let mutationCount = ProcessInfo.processInfo.environment["LOCALSCALE_HEADER_MUTATIONS"].flatMap { Int($0) } ?? 2000

    @Test("randomly mutated headers of em.mrc are read or refused with an MRCError, never a trap")
    func headerMutations() throws {
        let scratch = ScratchDirectory()
        let original = try emBytes()
        var generator = SplitMix64(seed: 0x11)
        var accepted = 0, refused = 0
        for _ in 0..<Self.mutationCount {
            var words: [Int: UInt32] = [:]
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                // Mostly the words the reader interprets (1–56), sometimes anywhere in the header.
                let word = Bool.random(using: &generator) || Bool.random(using: &generator)
                    ? Int.random(in: 1...56, using: &generator) : Int.random(in: 1...256, using: &generator)
                let current = original[4 * (word - 1) ..< 4 * word].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: words[word] = Self.interestingWords.randomElement(using: &generator)!
                case 1: words[word] = UInt32.random(in: 0...UInt32.max, using: &generator)
                default: words[word] = current &+ UInt32(bitPattern: Int32.random(in: -4...4, using: &generator))
                }
            }
            var bytes = original
            for (word, bits) in words {
                for b in 0..<4 { bytes[4 * (word - 1) + b] = UInt8(truncatingIfNeeded: bits >> (8 * UInt32(b))) }
            }
            let path = file(bytes, in: scratch)
            do {
                let map = try MRCFile.read(path: path)
                #expect(map.header.geometryErrors(path: path).isEmpty, "\(words)")
                #expect(map.volume.values.count == map.volume.grid.voxelCount, "\(words)")
                accepted += 1
            } catch is MRCError {
                refused += 1
            } catch {
                Issue.record("\(words): \(error)")
            }
        }
        print("header mutations: \(Self.mutationCount), accepted \(accepted), refused \(refused)")
        #expect(accepted > 0 && refused > 0 && accepted + refused == Self.mutationCount)
    }
}
