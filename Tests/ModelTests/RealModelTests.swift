import Foundation
import Testing
import LocScaleCore

/// PDB 5ME2 and its mmCIF 5NI1 from the ccpem-utils wheel, fetched by
/// Tests/Fixtures/fetch_emd3488.sh into LOCALSCALE_TESTDATA; a bare `swift test` without it
/// skips this suite. Expected numbers measured with PyPI gemmi 0.7.5
/// (`st = gemmi.read_structure(f); st[0].count_atom_sites()`, element counts over `st[0].all()`).
@Suite("Real models (5ME2, 5NI1)",
       .enabled(if: ProcessInfo.processInfo.environment["LOCALSCALE_TESTDATA"] != nil))
struct RealModelTests {
    static let data = ProcessInfo.processInfo.environment["LOCALSCALE_TESTDATA"] ?? ""

    static func elementCounts(_ model: AtomicModel) -> [String: Int] {
        model.atoms.reduce(into: [:]) { $0[$1.element, default: 0] += 1 }
    }

    @Test("5ME2 (PDB): 4468 atoms, as gemmi Python counts")
    func pdb5me2() throws {
        let model = try AtomicModel.read(path: Self.data + "/5me2.pdb")
        #expect(model.modelNumbers == [1])
        #expect(model.atoms.count == 4468)
        #expect(Self.elementCounts(model) == ["N": 760, "C": 2900, "O": 792, "S": 12, "Fe": 4])
        let first = try #require(model.atoms.first)
        #expect(first.label == "A/VAL 1/N")
        #expect(first.position == [45.985, 56.004, 67.793])
        #expect(first.bIso == 23.13 && first.occupancy == 1)
        let last = try #require(model.atoms.last)
        #expect(last.label == "D/HEM 201/FE")
        #expect(last.position == [68.899, 47.141, 41.729])
        #expect(last.bIso == 43.13)
        #expect(Set(model.formFactors.keys) == ["N", "C", "O", "S", "Fe"])
    }

    @Test("5NI1 (mmCIF): 4579 atoms, as gemmi Python counts")
    func cif5ni1() throws {
        let model = try AtomicModel.read(path: Self.data + "/5ni1_updated.cif")
        #expect(model.modelNumbers == [1])
        #expect(model.atoms.count == 4579)
        #expect(Self.elementCounts(model) == ["N": 780, "C": 2954, "O": 829, "S": 12, "Fe": 4])
        let first = try #require(model.atoms.first)
        #expect(first.label == "A/VAL 1/N")
        #expect(first.position == [45.716, 55.727, 67.167])
        #expect(first.bIso == 80.64)
        let last = try #require(model.atoms.last)
        #expect(last.label == "D/HOH 305/O")
        #expect(last.position == [66.745, 51.174, 62.217])
        #expect(last.bIso == 22.77)
    }
}
