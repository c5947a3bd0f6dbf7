import Foundation
import Testing
import LocScaleCore

/// Paths of the hand-written model snippets in Tests/Fixtures/models (see the README there).
enum ModelFixtures {
    static let directory: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/models").path
    }()

    static func path(_ name: String) -> String { directory + "/" + name }
}

/// The error `body` throws, as a `ModelError`; nil (and a recorded issue) when it throws none.
func modelError(_ body: () throws -> Void) -> ModelError? {
    do {
        try body()
        Issue.record("no error thrown")
        return nil
    } catch let error as ModelError {
        return error
    } catch {
        Issue.record("not a ModelError: \(error)")
        return nil
    }
}

@Suite("Atomic model reader (gemmi)")
struct ReaderTests {
    /// The atoms of small.pdb / small.cif (model 1), as written in the files. The PDB file stores
    /// ANISOU as integers × 10⁴ (gemmi multiplies by the float 1e-4f); mmCIF as decimals.
    static func expectedSmall(pdbAniso: Bool) -> [Atom] {
        func u(_ v: [Int]) -> AnisotropicU {
            let f = v.map { pdbAniso ? Float($0) * Float(1e-4) : Float(Double($0) / 10_000) }
            return AnisotropicU(u11: f[0], u22: f[1], u33: f[2], u12: f[3], u13: f[4], u23: f[5])
        }
        let atoms = [
            Atom(element: "N", position: [10.123, -2.5, 3.0], bIso: 12.34, anisotropicU: nil,
                 occupancy: 1, altloc: nil, chain: "A", residueNumber: 5, insertionCode: nil,
                 residueName: "ALA", name: "N"),
            Atom(element: "C", position: [11.0, -1.25, 3.5], bIso: 15.5,
                 anisotropicU: u([1234, 2345, 3456, -123, 45, -6]),
                 occupancy: 1, altloc: nil, chain: "A", residueNumber: 5, insertionCode: nil,
                 residueName: "ALA", name: "CA"),
            Atom(element: "C", position: [12.5, -1.0, 4.25], bIso: 20, anisotropicU: nil,
                 occupancy: 0.6, altloc: "A", chain: "A", residueNumber: 5, insertionCode: nil,
                 residueName: "ALA", name: "CB"),
            Atom(element: "C", position: [12.75, -0.5, 4.0], bIso: 25, anisotropicU: nil,
                 occupancy: 0.4, altloc: "B", chain: "A", residueNumber: 5, insertionCode: nil,
                 residueName: "ALA", name: "CB"),
            Atom(element: "H", position: [10.75, -0.25, 2.75], bIso: 18, anisotropicU: nil,
                 occupancy: 1, altloc: nil, chain: "A", residueNumber: 5, insertionCode: nil,
                 residueName: "ALA", name: "HA"),
            Atom(element: "O", position: [13.0, 1.0, 5.0], bIso: 30, anisotropicU: nil,
                 occupancy: 1, altloc: nil, chain: "A", residueNumber: 6, insertionCode: "A",
                 residueName: "GLY", name: "O"),
            Atom(element: "Fe", position: [-5.5, 6.625, -7.75], bIso: 40,
                 anisotropicU: u([5000, 4000, 3000, 100, -200, 300]),
                 occupancy: 0.5, altloc: nil, chain: "B", residueNumber: 101, insertionCode: nil,
                 residueName: "HEM", name: "FE"),
            Atom(element: "O", position: [0, 0, 0], bIso: 55, anisotropicU: nil,
                 occupancy: 1, altloc: nil, chain: "W", residueNumber: 201, insertionCode: nil,
                 residueName: "HOH", name: "O"),
        ]
        // Serial numbers as in both files (7 is the PDB file's TER record).
        return zip([1, 2, 3, 4, 5, 6, 8, 9], atoms).map { serial, atom in
            var atom = atom
            atom.serial = serial
            return atom
        }
    }

    @Test("PDB: positions, B, ANISOU, split altloc occupancies, hydrogens, insertion codes",
          arguments: ["small.pdb", "small.pdb.gz"])
    func pdb(file: String) throws {
        let model = try AtomicModel.read(path: ModelFixtures.path(file))
        #expect(model.modelNumber == 1)
        #expect(model.modelNumbers == [1])
        let expected = Self.expectedSmall(pdbAniso: true)
        #expect(model.atoms.count == expected.count)
        for (got, want) in zip(model.atoms, expected) {
            #expect(got == want)
        }
        #expect(Set(model.formFactors.keys) == ["N", "C", "H", "O", "Fe"])
        #expect(model.atoms[1].label == "A/ALA 5/CA")
        #expect(model.atoms[2].label == "A/ALA 5/CB:A")
        #expect(model.atoms[5].label == "A/GLY 6A/O")
        // The PDB ANISOU integers, exactly: 1234 × 1e-4 in float.
        #expect(model.atoms[1].anisotropicU?.elements.map { ($0 * 10_000).rounded() }
                == [1234, 2345, 3456, -123, 45, -6])
    }

    @Test("mmCIF: the same atoms as the PDB file, model 1 of 2, auth names",
          arguments: ["small.cif", "small.cif.gz"])
    func mmcif(file: String) throws {
        let model = try AtomicModel.read(path: ModelFixtures.path(file))
        #expect(model.modelNumber == 1)
        #expect(model.modelNumbers == [1, 2])
        let expected = Self.expectedSmall(pdbAniso: false)
        #expect(model.atoms.count == expected.count)
        for (got, want) in zip(model.atoms, expected) {
            #expect(got == want)
        }
        let second = try AtomicModel.read(path: ModelFixtures.path(file), modelNumber: 2)
        #expect(second.modelNumber == 2)
        #expect(second.atoms == [Atom(element: "C", position: [1, 2, 3], bIso: 10, anisotropicU: nil,
                                      occupancy: 1, altloc: nil, chain: "A", residueNumber: 1,
                                      insertionCode: nil, residueName: "GLY", name: "CA", serial: 10)])
    }

    @Test("two MODELs: the first by default, either by number; a missing number lists the models")
    func models() throws {
        let path = ModelFixtures.path("two_models.pdb")
        let first = try AtomicModel.read(path: path)
        #expect(first.modelNumber == 1)
        #expect(first.modelNumbers == [1, 2, 3])
        #expect(first.atoms.map(\.position) == [[1, 2, 3], [1.5, 2.5, 3.5]])
        #expect(first.atoms.map(\.bIso) == [10, 11])
        let second = try AtomicModel.read(path: path, modelNumber: 2)
        #expect(second.modelNumber == 2)
        #expect(second.atoms.map(\.position) == [[4, 5, 6], [4.5, 5.5, 6.5]])
        #expect(second.atoms.map(\.bIso) == [20, 21])
        #expect(second.atoms.map(\.element) == ["C", "O"])

        let missing = modelError { _ = try AtomicModel.read(path: path, modelNumber: 4) }
        #expect(missing == .modelNotFound(path: path, requested: 4, available: [1, 2, 3]))
        #expect(missing?.description == "\(path): model 4 not found (models: 1, 2, 3)")
        let huge = modelError { _ = try AtomicModel.read(path: path, modelNumber: Int(Int32.max) + 1) }
        #expect(huge?.description == "\(path): model 2147483648 not found (models: 1, 2, 3)")
        let empty = modelError { _ = try AtomicModel.read(path: path, modelNumber: 3) }
        #expect(empty?.description == "\(path): no atoms in model 3")
    }

    @Test("clean one-line errors for unreadable files, naming the file")
    func errors() {
        let cases: [(String, String)] = [
            // gemmi's own messages, passed through (a newline after a colon made a space).
            ("broken.pdb", "Problem in line 2: The line is too short to be correct: "
                + "ATOM      1  CA  GLY A   1       1.000   2.000"),
            ("broken.cif", "\(ModelFixtures.path("broken.cif")):6:33: unterminated 'string'"),
            ("model.xyz", "Unknown format of \(ModelFixtures.path("model.xyz"))."),
            ("missing.pdb", "Failed to open \(ModelFixtures.path("missing.pdb")): No such file or directory"),
        ]
        for (file, reason) in cases {
            let path = ModelFixtures.path(file)
            let error = modelError { _ = try AtomicModel.read(path: path) }
            #expect(error == .cannotRead(path: path, reason: reason))
            #expect(error?.description == "\(path): \(reason)")
            #expect(error?.description.contains("\n") == false)
        }
        // A PDB file without ATOM records still gets a model 1 from gemmi; an mmCIF file without
        // _atom_site gets none.
        let empty = ModelFixtures.path("empty.pdb")
        let error = modelError { _ = try AtomicModel.read(path: empty) }
        #expect(error?.description == "\(empty): no atoms in model 1")
        let noAtoms = ModelFixtures.path("no_atoms.cif")
        let cifError = modelError { _ = try AtomicModel.read(path: noAtoms) }
        #expect(cifError == .noModels(path: noAtoms))
        #expect(cifError?.description == "\(noAtoms): no atoms (no ATOM/HETATM records or _atom_site rows)")
    }

    @Test("an element without form factor is an error naming the atom, unless overridden")
    func unknownElement() throws {
        let path = ModelFixtures.path("unknown_element.pdb")
        // QQ is no element (gemmi reads it as X); Es is one, but past the table's Cf.
        let error = modelError { _ = try AtomicModel.read(path: path) }
        #expect(error == .unknownElement(path: path, element: "X", firstAtom: "A/LIG 2/QQ1", count: 3))
        #expect(error?.description == "\(path): atom A/LIG 2/QQ1 and 2 more atoms: an unrecognised element"
                + " has no electron scattering factor (International Tables C 4.3.2.2, H to Cf);"
                + " choose one with --unknown-element-as")
        let es = ModelFixtures.path("einsteinium.pdb")
        let esError = modelError { _ = try AtomicModel.read(path: es) }
        #expect(esError?.description == "\(es): atom A/ES 3/ES: element Es has no electron scattering"
                + " factor (International Tables C 4.3.2.2, H to Cf); choose one with --unknown-element-as")

        let model = try AtomicModel.read(path: path, unknownElementAs: "c")
        #expect(model.atoms.map(\.element) == ["C", "C", "C", "C"])
        #expect(model.atoms.map(\.name) == ["CA", "QQ1", "QQ2", "ES"])
        #expect(Set(model.formFactors.keys) == ["C"])
        let asN = try AtomicModel.read(path: path, unknownElementAs: "N")
        #expect(asN.atoms.map(\.element) == ["C", "N", "N", "N"])

        let bad = modelError { _ = try AtomicModel.read(path: path, unknownElementAs: "Qq") }
        #expect(bad == .noFormFactor(element: "Qq"))
        #expect(bad?.description == "element \"Qq\" has no electron scattering factor"
                + " (International Tables C 4.3.2.2, H to Cf)")
    }

    @Test("the shim reports the gemmi version it was built with (0.5.7 on Debian 12)")
    func version() {
        #expect(AtomicModel.gemmiVersion.split(separator: ".").count == 3)
    }
}
