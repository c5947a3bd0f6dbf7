import Foundation
import Testing
@testable import LocScaleCore

/// A column-exact PDB ATOM line of residue ALA A 3 (Tests/Fixtures/models/README.md); numbers
/// as text so that "nan" and "1e30" can stand in them.
func atomLine(_ serial: Int, _ name: String, x: String = "5.000", y: String = "10.000", z: String = "20.000",
              occupancy: String = "1.00", b: String = "20.00", element: String = "C") -> String {
    func right(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
    func left(_ s: String, _ width: Int) -> String { s + String(repeating: " ", count: max(0, width - s.count)) }
    return "ATOM  " + right(String(serial), 5) + " " + left(" " + name, 4) + " ALA A   3    " + right(x, 8)
        + right(y, 8) + right(z, 8) + right(occupancy, 6) + right(b, 6) + "          " + right(element, 2) + "\n"
}

/// An ANISOU line for atom `serial` of `atomLine`: U × 10⁴ as integers U11 U22 U33 U12 U13 U23.
func anisouLine(_ serial: Int, _ name: String, _ u: [Int]) -> String {
    func right(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
    return "ANISOU" + right(String(serial), 5) + "  " + name.padding(toLength: 4, withPad: " ", startingAt: 0)
        + "ALA A   3  " + u.map { right(String($0), 7) }.joined() + "       C\n"
}

/// Three atoms inside the box of Tests/Fixtures/data/em.mrc, the second (serial 2, CA) changed.
func threeAtoms(x: String = "6.000", y: String = "11.000", z: String = "21.000", occupancy: String = "1.00",
                b: String = "20.00", anisou: [Int]? = nil) -> String {
    atomLine(1, "N", element: "N")
        + atomLine(2, "CA", x: x, y: y, z: z, occupancy: occupancy, b: b)
        + (anisou.map { anisouLine(2, "CA", $0) } ?? "")
        + atomLine(3, "C", x: "7.000", y: "12.000", z: "22.000") + "END\n"
}

@Suite("Atomic models with hostile values")
struct BadModelTests {
    static let atom = "atom 2 (CA ALA A 3)"

    /// Cases: file text → the problem named after "PATH: atom 2 (CA ALA A 3): ".
    static let refused: [(String, String)] = [
        (threeAtoms(x: "nan"), "x coordinate nan Å is not finite"),
        (threeAtoms(y: "inf"), "y coordinate inf Å is not finite"),
        (threeAtoms(z: "1e30"), "z coordinate 1e+30 Å is beyond ±1000000 Å"),
        (threeAtoms(x: "-2000000"), "x coordinate -2000000 Å is beyond ±1000000 Å"),
        (threeAtoms(b: "nan"), "B factor nan Å² is not finite"),
        (threeAtoms(b: "-999"), "B factor -999 Å² is negative"),
        (threeAtoms(b: "-1.5"), "B factor -1.5 Å² is negative"),
        (threeAtoms(b: "-1e6"), "B factor -1000000 Å² is negative"),
        (threeAtoms(b: "1e30"), "B factor 1e+30 Å² is above 1000 Å²"),
        (threeAtoms(b: "1e8"), "B factor 1e+08 Å² is above 1000 Å²"),
        (threeAtoms(b: "1000.5"), "B factor 1000.5 Å² is above 1000 Å²"),
        (threeAtoms(occupancy: "nan"), "occupancy nan is not finite"),
        (threeAtoms(occupancy: "-1"), "occupancy -1 is negative"),
        (threeAtoms(occupancy: "1.5"), "occupancy 1.5 is above 1"),
        // Eigenvalues 0.01 ± 0.05 Å² and 0.01 Å².
        (threeAtoms(anisou: [100, 100, 100, 500, 0, 0]), "ANISOU tensor has a negative eigenvalue -0.04 Å²"),
        (threeAtoms(anisou: [200_000, 1000, 1000, 0, 0, 0]),
         "ANISOU tensor has an eigenvalue 20 Å² above 12.67 Å² (B = 8π²U above 1000 Å²)"),
    ]

    @Test("non-finite or absurd coordinates, B, ANISOU and occupancies are refused naming file, atom and value",
          arguments: refused.indices)
    func refusedValue(index: Int) throws {
        let (text, problem) = Self.refused[index]
        let scratch = Scratch()
        let path = scratch.write("bad.pdb", text)
        let error = modelError { _ = try AtomicModel.read(path: path) }
        #expect(error?.description == "\(path): \(Self.atom): \(problem)")
    }

    @Test("a non-finite ANISOU element in mmCIF is refused")
    func nonFiniteU() throws {
        let scratch = Scratch()
        let text = try String(contentsOfFile: ModelFixtures.path("small.cif"), encoding: .utf8)
            .replacingOccurrences(of: "2 C  0.1234 0.2345", with: "2 C  0.1234 nan")
        let path = scratch.write("bad.cif", text)
        let error = modelError { _ = try AtomicModel.read(path: path) }
        #expect(error?.description == "\(path): atom 2 (CA ALA A 5): ANISOU U22 nan Å² is not finite")
    }

    @Test("values at the edges of the tolerances are accepted")
    func tolerated() throws {
        let scratch = Scratch()
        for text in [threeAtoms(b: "-0.99"), threeAtoms(b: "999.99"), threeAtoms(occupancy: "1.01"),
                     threeAtoms(occupancy: "0.00"), threeAtoms(x: "-999999"),
                     threeAtoms(anisou: [100, 100, 100, 110, 0, 0])] {  // eigenvalue −0.001 Å²
            let model = try AtomicModel.read(path: scratch.write("ok.pdb", text))
            #expect(model.atoms.count == 3)
        }
    }

    @Test("a model whose atoms all have zero occupancy is an error, not a zero map")
    func allZeroOccupancy() throws {
        let scratch = Scratch()
        let text = atomLine(1, "N", occupancy: "0.00", element: "N") + atomLine(2, "CA", occupancy: "-0.00")
        let path = scratch.write("zero.pdb", text)
        let error = modelError { _ = try AtomicModel.read(path: path) }
        #expect(error == .zeroOccupancy(path: path, model: 1, count: 2))
        #expect(error?.description == "\(path): all 2 atoms of model 1 have zero occupancy"
                + " (the model map would be zero)")
    }

    @Test("a directory, a FIFO, corrupt or truncated gzip data and binary data each get their own line")
    func unreadable() throws {
        let scratch = Scratch()
        let directory = scratch.file("dir.pdb")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        let fifo = scratch.file("fifo.pdb")
        #expect(mkfifo(fifo, 0o600) == 0)
        let plain = Data(threeAtoms().utf8)
        let gzipped = try Data(contentsOf: URL(fileURLWithPath: ModelFixtures.path("small.pdb.gz")))
        var corrupt = gzipped
        corrupt.replaceSubrange(20..<30, with: [UInt8](repeating: 0xff, count: 10))
        let noise = Data((0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ 13) })  // 13, 110, 207, 48, …
        let cases: [(String, Data?, String)] = [
            ("dir.pdb", nil, "is a directory"),
            ("fifo.pdb", nil, "is not a regular file"),
            ("corrupt.pdb.gz", corrupt, "corrupt gzip data: invalid bit length repeat"),
            ("truncated.pdb.gz", gzipped.prefix(gzipped.count / 2), "corrupt gzip data: unexpected end of data"),
            ("plain.pdb.gz", plain, "corrupt gzip data: no gzip header"),
            ("empty.pdb.gz", Data(), "corrupt gzip data: no gzip header"),
            ("noise.pdb", noise, "not a PDB or mmCIF file (binary data at byte 8)"),
            ("noise.cif", noise, "\(scratch.file("noise.cif")):1:2: expected block header (data_)"),
        ]
        for (name, contents, reason) in cases {
            if let contents { #expect(FileManager.default.createFile(atPath: scratch.file(name), contents: contents)) }
            let path = scratch.file(name)
            let error = modelError { _ = try AtomicModel.read(path: path) }
            #expect(error == .cannotRead(path: path, reason: reason), "\(name)")
        }
    }

    @Test("an atom of zero occupancy off the fine grid's points does not trap the simulation (fuzz-model)")
    func zeroOccupancyOffGrid() throws {
        // em.mrc: origin (−7.5, 3, 12.25) Å, voxel 1.2 Å, so the fine grid (0.6 Å) has a plane
        // at z = 21.25 Å; the atom's y and x fall between points.
        let scratch = Scratch()
        let text = atomLine(1, "N", element: "N") + atomLine(2, "CA", x: "6.100", y: "11.100", z: "21.250",
                                                            occupancy: "0.00")
        let model = try AtomicModel.read(path: scratch.write("zero.pdb", text))
        let grid = try MRCFile.readHeader(path: CLIFixtures.em).grid
        let simulator = try DensitySimulator(grid: grid, resolution: nil)
        try simulator.checkFrame(model)
        let one = AtomicModel(path: model.path, modelNumber: 1, modelNumbers: [1], atoms: [model.atoms[0]],
                              formFactors: model.formFactors)
        // The zero-occupancy atom adds nothing.
        #expect(simulator.simulate(model, threads: 2).values == simulator.simulate(one, threads: 2).values)
    }

    @Test("inputs the fuzzer found, replayed as fuzz-model runs them: no trap, a finite map",
          arguments: try FileManager.default.contentsOfDirectory(atPath: ModelFixtures.path("fuzz")).sorted())
    func fuzzRegression(name: String) throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: ModelFixtures.path("fuzz/" + name)))
        let scratch = Scratch()
        let suffix = (bytes[0] & 1 == 0 ? ".pdb" : ".cif") + (bytes[0] & 2 == 0 ? "" : ".gz")
        let path = scratch.file("input" + suffix)
        #expect(FileManager.default.createFile(atPath: path, contents: bytes.dropFirst()))
        guard let model = try? AtomicModel.read(path: path) else { return }
        let positions = model.atoms.map(\.position)
        let low = positions.reduce(SIMD3(repeating: .infinity)) { pointwiseMin($0, $1) }
        let high = positions.reduce(SIMD3(repeating: -.infinity)) { pointwiseMax($0, $1) }
        let voxel = max(1, ((high - low).max() + 2) / 10)
        let grid = Grid(shape: XYZ(12, 12, 12), voxelSize: XYZ(voxel, voxel, voxel),
                        origin: XYZ(low.x - voxel, low.y - voxel, low.z - voxel))
        let simulator = try DensitySimulator(grid: grid, resolution: nil)
        guard (try? simulator.checkFrame(model)) != nil else { return }
        #expect(simulator.simulate(model, threads: 1).values.allSatisfy { $0.isFinite })
    }

    @Test("a small negative U eigenvalue (within tolerance) enters the blur: a finite map")
    func slightlyNegativeU() throws {
        let scratch = Scratch()
        // U11 = U22 = 0.0001 Å², U12 = 0.0011 Å²: eigenvalue −0.001 Å², diagonal far above it.
        let text = threeAtoms(anisou: [1, 1, 20000, 11, 0, 0])
        let model = try AtomicModel.read(path: scratch.write("u.pdb", text))
        let simulator = try DensitySimulator(grid: try MRCFile.readHeader(path: CLIFixtures.em).grid, resolution: nil)
        try simulator.checkFrame(model)
        let atoms = PreparedAtoms(model, simulator: simulator)
        #expect(atoms.densities.allSatisfy { $0.amplitude.allSatisfy { $0.isFinite } && $0.radius.isFinite })
        let values = simulator.simulate(model, threads: 1).values
        #expect(values.allSatisfy { $0.isFinite })
        #expect(values.max()! > 0.1)
    }

    @Test("voxels under 0.5 Å: the unblur stays bounded and the map is the same atoms at every voxel size")
    func smallVoxels() throws {
        let scratch = Scratch()
        let model = try AtomicModel.read(path: scratch.write("three.pdb", threeAtoms()))
        // Peak densities on 40³ boxes of 0.2 Å (B_min 40 Å² gave 3e7 there: float noise × 10²⁷)
        // and 0.3 Å, and 80³ of 0.1 Å, all with the origin at (4, 9, 19) Å.
        var peaks: [Float] = []
        for (n, voxel) in [(40, 0.3), (40, 0.2), (80, 0.1)] {
            let grid = Grid(shape: XYZ(n, n, n), voxelSize: XYZ(voxel, voxel, voxel), origin: XYZ(4, 9, 19))
            let simulator = try DensitySimulator(grid: grid, resolution: nil)
            #expect(simulator.minimumTotalB == min(40, 160 * voxel * voxel))
            try simulator.checkFrame(model)
            let values = simulator.simulate(model, threads: 2).values
            #expect(values.allSatisfy { $0.isFinite })
            #expect(values.min()! > -1e-4)
            peaks.append(values.max()!)
        }
        // Measured: 0.644, 0.657, 0.657 (the 0.3 Å grid misses the peak by more).
        #expect(peaks.allSatisfy { $0 > 0.6 && $0 < 0.7 }, "\(peaks)")
        #expect(abs(peaks[1] - peaks[2]) < 1e-3 * peaks[2])
    }

    @Test("an atom reaching farther than the box is long, or too many voxels away, is refused")
    func reach() throws {
        let scratch = Scratch()
        let model = try AtomicModel.read(path: scratch.write("wide.pdb", threeAtoms(b: "999.00")))
        // 8 voxels of 1 Å: the B = 999 Å² atom reaches ~19 Å.
        let small = Grid(shape: XYZ(8, 8, 8), voxelSize: XYZ(1, 1, 1), origin: XYZ(2, 7, 17))
        let simulator = try DensitySimulator(grid: small, resolution: nil)
        let error = #expect(throws: SimulationError.self) { try simulator.checkFrame(model) }
        let radius = PreparedAtoms(model, simulator: simulator).densities[1].radius
        #expect(error == .atomWiderThanBox(path: model.path, atom: "2 (CA ALA A 3)", radius: radius, axis: "x",
                                           edge: 8))
        #expect(error?.description == "\(model.path): atom 2 (CA ALA A 3) spreads \(formatDecimal(radius, digits: 1)) Å"
                + " from its centre, more than the map box's x edge of 8 Å; is the voxel size right?")
        #expect(radius > 15 && radius < 25)

        // Voxels of 1e-12 Å: the two atoms at 0 are inside, and a zero-occupancy atom (radius 0)
        // lies 1e4 Å = 2e16 fine voxels away.
        let far = try AtomicModel.read(path: scratch.write("far.pdb",
            atomLine(1, "N", x: "10000.000", occupancy: "0.00") + atomLine(2, "CA", x: "0.000", y: "0.000", z: "0.000")
                + atomLine(3, "C", x: "0.000", y: "0.000", z: "0.000")))
        let tiny = Grid(shape: XYZ(100, 100, 100), voxelSize: XYZ(1e-12, 1e-12, 1e-12),
                        origin: XYZ(-5e-11, -5e-11, -5e-11))
        let tinySimulator = try DensitySimulator(grid: tiny, resolution: nil)
        let farError = #expect(throws: SimulationError.self) { try tinySimulator.checkFrame(far) }
        #expect(farError?.description == "\(far.path): atom 1 (N ALA A 3) lies 2e+16 voxels from the map's first voxel,"
                + " too far to index; is the voxel size right?")
    }
}

/// Paths of the map fixtures in Tests/Fixtures/data.
enum CLIFixtures {
    static let em = ModelFixtures.directory + "/../data/em.mrc"
}

/// A scratch folder removed when the test ends.
final class Scratch: Sendable {
    let path = NSTemporaryDirectory() + "localscale-model-" + UUID().uuidString
    init() { try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }
    /// Writes `text` to `name` in the folder; its path.
    func write(_ name: String, _ text: String) -> String {
        _ = FileManager.default.createFile(atPath: file(name), contents: Data(text.utf8))
        return file(name)
    }
}
