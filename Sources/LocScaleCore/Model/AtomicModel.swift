/// The anisotropic displacement tensor U of an atom (ANISOU), in Å², symmetric; the PDB file
/// stores it × 10⁴, gemmi has scaled it. The equivalent B is `8π²·(u11 + u22 + u33)/3`.
public struct AnisotropicU: Sendable, Equatable {
    public var u11: Float, u22: Float, u33: Float, u12: Float, u13: Float, u23: Float

    public init(u11: Float, u22: Float, u33: Float, u12: Float, u13: Float, u23: Float) {
        self.u11 = u11; self.u22 = u22; self.u33 = u33
        self.u12 = u12; self.u13 = u13; self.u23 = u23
    }

    /// The six values in the PDB ANISOU order U11 U22 U33 U12 U13 U23, Å².
    public var elements: [Float] { [u11, u22, u33, u12, u13, u23] }
}

/// One atom as the file gives it: nothing is dropped or merged (hydrogens kept, each altloc its
/// own atom with its own occupancy).
public struct Atom: Sendable, Equatable {
    /// Element symbol as gemmi spells it ("C", "Fe", "D"); "X" when gemmi did not recognise it.
    /// After `AtomicModel.read(…, unknownElementAs:)` the replacement symbol.
    public var element: String
    /// Cartesian position, Å (orthogonal coordinates of the file).
    public var position: SIMD3<Double>
    /// Isotropic B factor, Å², as in the file (gemmi's default 20 Å² for a PDB line too short to
    /// hold it, 50 Å² for an mmCIF row without it). When `anisotropicU` is present it takes over.
    public var bIso: Float
    /// The anisotropic U tensor (ANISOU / `_atom_site_anisotrop`), Å²; nil when absent.
    public var anisotropicU: AnisotropicU?
    /// Occupancy as in the file (0…1); altlocs carry their split occupancies.
    public var occupancy: Float
    /// Alternate location indicator, nil when none.
    public var altloc: Character?
    /// Author chain name (PDB column 22, mmCIF `auth_asym_id`).
    public var chain: String
    /// Author residue number; nil when the file leaves it unset.
    public var residueNumber: Int?
    /// Residue insertion code, nil when none.
    public var insertionCode: Character?
    /// Residue name ("ALA", "HOH").
    public var residueName: String
    /// Atom name ("CA", "O5'").
    public var name: String
    /// Serial number (PDB columns 7–11, mmCIF `id`); 0 when the file leaves it unset.
    public var serial: Int

    public init(element: String, position: SIMD3<Double>, bIso: Float, anisotropicU: AnisotropicU?,
                occupancy: Float, altloc: Character?, chain: String, residueNumber: Int?,
                insertionCode: Character?, residueName: String, name: String, serial: Int = 0) {
        self.element = element; self.position = position; self.bIso = bIso
        self.anisotropicU = anisotropicU; self.occupancy = occupancy; self.altloc = altloc
        self.chain = chain; self.residueNumber = residueNumber; self.insertionCode = insertionCode
        self.residueName = residueName; self.name = name; self.serial = serial
    }

    /// "chain/residue number+icode/atom" with ":altloc" when there is one, e.g. "A/ALA 12B/CA:A".
    public var label: String {
        let number = residueNumber.map(String.init) ?? "?"
        let icode = insertionCode.map { String($0) } ?? ""
        let alt = altloc.map { ":\($0)" } ?? ""
        return "\(chain)/\(residueName) \(number)\(icode)/\(name)\(alt)"
    }

    /// "serial (name residue chain number+icode)" with ", altloc X" when there is one, e.g.
    /// "12 (CA ALA A 3)", "7 (CB SER B 14A, altloc B)".
    public var serialLabel: String {
        let number = residueNumber.map(String.init) ?? "?"
        let icode = insertionCode.map { String($0) } ?? ""
        let alt = altloc.map { ", altloc \($0)" } ?? ""
        return "\(serial) (\(name) \(residueName) \(chain) \(number)\(icode)\(alt))"
    }
}

/// The atoms of one model of a PDB or mmCIF file (optionally gzipped), read through gemmi.
public struct AtomicModel: Sendable {
    /// The file as given to `read`.
    public var path: String
    /// The number of the model read (MODEL serial / `pdbx_PDB_model_num`).
    public var modelNumber: Int
    /// The numbers of all models in the file, in file order.
    public var modelNumbers: [Int]
    /// The atoms, in gemmi's order (chain, residue, atom).
    public var atoms: [Atom]
    /// The electron form factor of every element in `atoms`, keyed by `Atom.element`.
    public var formFactors: [String: ElectronFormFactor]

    /// Reads model `modelNumber` (the first model when nil) of a PDB (`.pdb`, `.ent`) or mmCIF
    /// (`.cif`, `.mmcif`) file, plain or gzipped (`.gz`); gemmi picks the format by extension.
    ///
    /// Every atom's element must have an electron scattering factor (H to Cf); otherwise the
    /// read fails naming the first such atom, unless `unknownElementAs` (e.g. "C") gives the
    /// element to use for them instead. Positions, B, U and occupancies must be finite and within
    /// `AtomChecks`' limits, and not every occupancy zero.
    /// - Throws: `ModelError`, its description one line naming the file.
    public static func read(path: String, modelNumber: Int? = nil,
                            unknownElementAs: String? = nil) throws -> AtomicModel {
        let replacement = try unknownElementAs.map { try ElectronFormFactor(element: $0) }
        let raw = try GemmiShim.readModel(path: path, modelNumber: modelNumber)
        var atoms = raw.atoms
        guard !atoms.isEmpty else {
            throw ModelError.noAtoms(path: path, model: raw.modelNumber)
        }
        try AtomChecks.check(atoms, path: path, modelNumber: raw.modelNumber)
        var formFactors: [String: ElectronFormFactor] = [:]
        var unknown: Set<String> = []
        var firstUnknown: Int?
        var unknownCount = 0
        for i in atoms.indices {
            let element = atoms[i].element
            if formFactors[element] != nil { continue }
            if !unknown.contains(element), let f = try? ElectronFormFactor(element: element) {
                formFactors[element] = f
                continue
            }
            unknown.insert(element)
            unknownCount += 1
            if firstUnknown == nil { firstUnknown = i }
            if let replacement {
                atoms[i].element = replacement.element
                formFactors[replacement.element] = replacement
            }
        }
        if let firstUnknown, replacement == nil {
            throw ModelError.unknownElement(path: path, element: raw.atoms[firstUnknown].element,
                                            firstAtom: raw.atoms[firstUnknown].label,
                                            count: unknownCount)
        }
        return AtomicModel(path: path, modelNumber: raw.modelNumber, modelNumbers: raw.modelNumbers,
                           atoms: atoms, formFactors: formFactors)
    }

    /// The version of gemmi the reader was built with (e.g. "0.5.7").
    public static var gemmiVersion: String { GemmiShim.version }
}
