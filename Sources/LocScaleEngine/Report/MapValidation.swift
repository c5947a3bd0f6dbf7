import Foundation
import LocScaleCore

/// The validation numbers of one map against a model map (and optionally half maps and the
/// atomic model): FSC curves, RSCC, radial profiles with Guinier B, per-residue RSCC.
public struct MapValidation {
    let name: String
    let fsc: FSCCurve
    let maskedFSC: FSCCurve?
    let halfMapFSC: FSCCurve?
    let referenceFSC: [FSCCurve]
    let rscc: Double
    let rsccNearAtoms: Double?
    let residues: [ResidueCorrelation]
    let profile: RadialProfile
    let modelProfile: RadialProfile
    let guinierB: Double?
    let modelGuinierB: Double?
    let guinierRange: (low: Double, high: Double)
    /// The map's central planes, and the mask's (for the images' contrast).
    let slices: CentralSlices
    let maskSlices: CentralSlices?

    /// The maps a Fourier comparison takes.
    enum Role: Hashable { case map, model, half1, half2 }

    /// The Fourier-shell sums a validation needs, in a fixed order (so that MPI ranks can
    /// compute them together): map–model, masked map–model, half maps, half maps–model (FSC_ref),
    /// map and model map alone (radial profiles).
    static func requests(masked: Bool, halves: Bool) -> [(first: Role, second: Role, masked: Bool)] {
        var list: [(first: Role, second: Role, masked: Bool)] = [(.map, .model, false)]
        if masked { list.append((.map, .model, true)) }
        if halves { list += [(.half1, .half2, masked), (.half1, .model, masked), (.half2, .model, masked)] }
        return list + [(.map, .map, masked), (.model, .model, masked)]
    }

    /// The sums of `requests` computed here, in one process.
    static func sums(masked mask: Volume?, halves: (Volume, Volume)?, map: Volume, modelMap: Volume) -> [ShellSums] {
        let volumes: [Role: Volume] = [.map: map, .model: modelMap, .half1: halves?.0, .half2: halves?.1]
            .compactMapValues { $0 }
        return requests(masked: mask != nil, halves: halves != nil).map {
            MapComparison.shellSums(volumes[$0.first]!, volumes[$0.second]!, mask: $0.masked ? mask : nil)
        }
    }

    /// The validation of whole maps in one process. `sums` must be the results of
    /// `requests(masked: mask != nil, halves: halfMaps)`.
    init(name: String, map: Volume, modelMap: Volume, mask: Volume?, halfMaps: Bool,
         model: AtomicModel?, resolution: Double?, guinierFrom low: Double = 10, sums: [ShellSums]) {
        let shape = map.grid.shape
        let realSpace = RealSpaceCorrelations(map: map.values, modelMap: modelMap.values, mask: mask?.values,
                                              planes: 0..<shape.z, grid: map.grid, model: model,
                                              fold: SlabCorrelation.wholeMap)
        self.init(name: name, grid: map.grid, halfMaps: halfMaps, realSpace: realSpace,
                  slices: CentralSlices(wholeMap: map.values, shape: shape),
                  maskSlices: mask.map { CentralSlices(wholeMap: $0.values, shape: shape) },
                  resolution: resolution, guinierFrom: low, sums: sums)
    }

    /// The validation from its parts: `sums` as for `init(name:map:…)`.
    init(name: String, grid: Grid, halfMaps: Bool, realSpace: RealSpaceCorrelations, slices: CentralSlices,
         maskSlices: CentralSlices?, resolution: Double?, guinierFrom low: Double, sums: [ShellSums]) {
        self.name = name
        self.slices = slices
        self.maskSlices = maskSlices
        var next = sums.makeIterator()
        fsc = next.next()!.fsc
        maskedFSC = maskSlices == nil ? nil : next.next()!.fsc
        halfMapFSC = halfMaps ? next.next()!.fsc : nil
        referenceFSC = halfMaps ? [next.next()!.fsc, next.next()!.fsc] : []
        rscc = realSpace.masked
        rsccNearAtoms = realSpace.nearAtoms
        residues = realSpace.residues
        profile = RadialProfile(sums: next.next()!)
        modelProfile = RadialProfile(sums: next.next()!)
        let high = resolution ?? halfMapFSC?.resolution(at: 0.143) ?? 2 * grid.voxelSize.array.max()!
        guinierRange = (low, high)
        guinierB = profile.guinierB(from: low, to: high)
        modelGuinierB = modelProfile.guinierB(from: low, to: high)
    }

    /// The numbers as a JSON-ready dictionary.
    var summary: [String: Any] {
        var out: [String: Any] = [
            "fsc_map_model_0.5_resolution_A": fsc.resolution(at: 0.5),
            "rscc_mask": rscc,
            "guinier_range_A": [guinierRange.low, guinierRange.high],
        ]
        if let maskedFSC { out["fsc_map_model_masked_0.5_resolution_A"] = maskedFSC.resolution(at: 0.5) }
        if let halfMapFSC { out["half_map_fsc_0.143_resolution_A"] = halfMapFSC.resolution(at: 0.143) }
        if !referenceFSC.isEmpty { out["fsc_ref_0.5_resolution_A"] = referenceFSC.map { $0.resolution(at: 0.5) } }
        if let rsccNearAtoms { out["rscc_within_2.5A_of_atoms"] = rsccNearAtoms }
        if let guinierB { out["guinier_b_A2"] = guinierB }
        if let modelGuinierB { out["model_guinier_b_A2"] = modelGuinierB }
        return out
    }

    /// The summary lines `validate` prints and `scale --report` logs.
    public var lines: [String] {
        let masked = maskedFSC.map { " (masked \(formatDecimal($0.resolution(at: 0.5), digits: 2)) Å)" } ?? ""
        let nearAtoms = rsccNearAtoms.map { " (within 2.5 Å of atoms \(formatDecimal($0, digits: 4)))" } ?? ""
        var lines = ["\(name): FSC with the model map 0.5 at \(formatDecimal(fsc.resolution(at: 0.5), digits: 2)) Å"
                     + masked + "; RSCC \(formatDecimal(rscc, digits: 4))" + nearAtoms]
        if let halfMapFSC {
            lines.append("\(name): half-map FSC 0.143 at \(formatDecimal(halfMapFSC.resolution(at: 0.143), digits: 2)) Å")
        }
        if let guinierB {
            let model = modelGuinierB.map { formatDecimal($0, digits: 1) } ?? "–"
            let range = "\(formatDecimal(guinierRange.low, digits: 1))–\(formatDecimal(guinierRange.high, digits: 2))"
            lines.append("\(name): Guinier B \(formatDecimal(guinierB, digits: 1)) Å² (model map \(model) Å²) over \(range) Å")
        }
        return lines
    }

    /// FSC curves as CSV: shell, s (Å⁻¹), d (Å), and one column per curve.
    var fscCSV: String {
        var header = ["shell", "s_per_A", "d_A", "fsc_map_model"]
        var curves = [fsc]
        if let maskedFSC { header.append("fsc_map_model_masked"); curves.append(maskedFSC) }
        if let halfMapFSC { header.append("fsc_half_maps"); curves.append(halfMapFSC) }
        for (i, curve) in referenceFSC.enumerated() { header.append("fsc_ref_half\(i + 1)"); curves.append(curve) }
        var rows = [header.joined(separator: ",")]
        for s in fsc.correlation.indices {
            let f = Double(s) * fsc.shellWidth
            rows.append(([String(s), formatDecimal(f, digits: 6), s == 0 ? "inf" : formatDecimal(1 / f, digits: 4)] +
                         curves.map { formatDecimal($0.correlation[s], digits: 6) }).joined(separator: ","))
        }
        return rows.joined(separator: "\n") + "\n"
    }

    /// Per-residue RSCC as CSV.
    var residuesCSV: String {
        var rows = ["chain,residue_number,insertion_code,residue_name,rscc,voxels"]
        for r in residues {
            let number = r.number.map(String.init) ?? "", insertion = r.insertionCode.map { String($0) } ?? ""
            let correlation = r.correlation.isFinite ? formatDecimal(r.correlation, digits: 4) : "nan"
            rows.append("\(r.chain),\(number),\(insertion),\(r.name),\(correlation),\(r.voxelCount)")
        }
        return rows.joined(separator: "\n") + "\n"
    }
}
