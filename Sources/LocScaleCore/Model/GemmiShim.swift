// The only file that talks to the CGemmi C API (gemmi behind extern "C"). Everything else in
// Model/ sees plain Swift values.
import CGemmi

enum GemmiShim {
    /// The gemmi version CGemmi was compiled against ("0.5.7" on Debian 12).
    static var version: String { String(cString: cgemmi_version()) }

    /// One model of a file as gemmi reads it, before any element check.
    struct RawModel {
        var modelNumber: Int
        var modelNumbers: [Int]
        var atoms: [Atom]
    }

    private static let messageSize = 1024

    /// Reads the atoms of model `modelNumber` (the first model when nil) of `path`.
    /// - Throws: `ModelError.cannotRead`, `.modelNotFound`, `.noModels`.
    static func readModel(path: String, modelNumber: Int?) throws -> RawModel {
        // A number outside Int32 cannot name a model: ask for the first one to get the list.
        let requested = modelNumber.flatMap { Int32(exactly: $0) }
        var raw = CGemmiAtoms()
        var message = [CChar](repeating: 0, count: messageSize)
        let status = cgemmi_read_atoms(path, requested == nil ? 0 : 1, requested ?? 0, &raw,
                                       &message, messageSize)
        defer { cgemmi_atoms_free(&raw) }
        let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) },
                            as: UTF8.self)
        let numbers = raw.model_count == 0 ? [] :
            Array(UnsafeBufferPointer(start: raw.model_numbers, count: raw.model_count)).map(Int.init)
        switch Int(status) {
        case CGEMMI_OK:
            if let modelNumber, requested == nil {
                throw ModelError.modelNotFound(path: path, requested: modelNumber, available: numbers)
            }
        case CGEMMI_ERROR_NO_SUCH_MODEL:
            throw ModelError.modelNotFound(path: path, requested: modelNumber ?? 0, available: numbers)
        case CGEMMI_ERROR_NO_MODELS:
            throw ModelError.noModels(path: path)
        default:
            throw ModelError.cannotRead(path: path, reason: reason)
        }
        return RawModel(modelNumber: Int(raw.model_number), modelNumbers: numbers,
                        atoms: atoms(of: raw))
    }

    private static func atoms(of raw: CGemmiAtoms) -> [Atom] {
        let n = raw.count
        guard n > 0 else { return [] }
        // Names repeat (one chain name per chain, one residue name per residue): make each
        // distinct string once.
        var strings: [UInt32: String] = [:]
        func string(_ offset: UInt32) -> String {
            if let s = strings[offset] { return s }
            let s = String(cString: raw.strings + Int(offset))
            strings[offset] = s
            return s
        }
        func character(_ c: CChar, none: CChar) -> Character? {
            c == none || c == 0 ? nil : Character(Unicode.Scalar(UInt8(bitPattern: c)))
        }
        var atoms: [Atom] = []
        atoms.reserveCapacity(n)
        for i in 0..<n {
            let u: AnisotropicU? = raw.has_aniso[i] == 0 ? nil : {
                let p = raw.aniso_u + 6 * i
                return AnisotropicU(u11: p[0], u22: p[1], u33: p[2], u12: p[3], u13: p[4], u23: p[5])
            }()
            let number = raw.residue_number[i]
            atoms.append(Atom(
                element: string(raw.element_offset[i]),
                position: SIMD3(raw.x[i], raw.y[i], raw.z[i]),
                bIso: raw.b_iso[i],
                anisotropicU: u,
                occupancy: raw.occupancy[i],
                altloc: character(raw.altloc[i], none: 0),
                chain: string(raw.chain_name_offset[i]),
                residueNumber: number == Int32.min ?  // CGEMMI_NO_RESIDUE_NUMBER
                    nil : Int(number),
                insertionCode: character(raw.insertion_code[i], none: CChar(UInt8(ascii: " "))),
                residueName: string(raw.residue_name_offset[i]),
                name: string(raw.atom_name_offset[i]),
                serial: Int(raw.serial[i])))
        }
        return atoms
    }

    /// The IT C 4.3.2.2 coefficients of `symbol` in the table's own convention (`s = sin θ / λ`),
    /// or nil when gemmi does not know the symbol or the table has no row for it.
    static func c4322(symbol: String) -> (a: [Double], b: [Double])? {
        var a = [Double](repeating: 0, count: 5)
        var b = [Double](repeating: 0, count: 5)
        var message = [CChar](repeating: 0, count: messageSize)
        let status = cgemmi_c4322(symbol, &a, &b, &message, messageSize)
        return Int(status) == CGEMMI_OK ? (a, b) : nil
    }
}
