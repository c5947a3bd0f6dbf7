/// Why an atomic model could not be read or used. The description is one line that names the
/// file (when there is one) and the problem.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    /// gemmi could not read the file (missing, unknown format, syntax error); its message, made
    /// one line.
    case cannotRead(path: String, reason: String)
    /// `--model-number` names a model the file does not have.
    case modelNotFound(path: String, requested: Int, available: [Int])
    /// The file holds no model at all (no ATOM/HETATM records, no `_atom_site` rows).
    case noModels(path: String)
    /// The chosen model has no atoms.
    case noAtoms(path: String, model: Int)
    /// Atoms whose element has no electron scattering factor: `element` as gemmi read it ("X"
    /// when it did not recognise the symbol), the first such atom and how many there are.
    case unknownElement(path: String, element: String, firstAtom: String, count: Int)
    /// An atom with a non-finite or absurd value (`AtomChecks`): the atom as `Atom.serialLabel`
    /// and what is wrong, e.g. "B factor -999 Å² is negative".
    case badAtom(path: String, atom: String, problem: String)
    /// Every atom of the model has zero occupancy (the model map would be zero).
    case zeroOccupancy(path: String, model: Int, count: Int)
    /// An element symbol (e.g. the `--unknown-element-as` value) with no row in the table.
    case noFormFactor(element: String)

    public var description: String {
        switch self {
        case let .cannotRead(path, reason):
            return "\(path): \(reason)"
        case let .modelNotFound(path, requested, available):
            let list = available.map(String.init).joined(separator: ", ")
            return "\(path): model \(requested) not found (models: \(list))"
        case let .noModels(path):
            return "\(path): no atoms (no ATOM/HETATM records or _atom_site rows)"
        case let .noAtoms(path, model):
            return "\(path): no atoms in model \(model)"
        case let .unknownElement(path, element, firstAtom, count):
            let what = element == "X" ? "an unrecognised element" : "element \(element)"
            let others = count > 1 ? " and \(count - 1) more atom\(count > 2 ? "s" : "")" : ""
            return "\(path): atom \(firstAtom)\(others): \(what) has no electron scattering factor"
                + " (International Tables C 4.3.2.2, H to Cf); choose one with --unknown-element-as"
        case let .badAtom(path, atom, problem):
            return "\(path): atom \(atom): \(problem)"
        case let .zeroOccupancy(path, model, count):
            return "\(path): all \(count) atom\(count == 1 ? "" : "s") of model \(model) have zero occupancy"
                + " (the model map would be zero)"
        case let .noFormFactor(element):
            return "element \"\(element)\" has no electron scattering factor"
                + " (International Tables C 4.3.2.2, H to Cf)"
        }
    }
}
