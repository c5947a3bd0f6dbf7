import Foundation
import LocScaleCore

/// `DIR/report.html` (one self-contained page: inline SVG, no scripts, no network), `DIR/summary.json`
/// and CSV files, for one or more validated maps (e.g. input and output of `scale`).
public struct ValidationReport {
    let validations: [MapValidation]
    /// Run parameters shown in a table, in order.
    let parameters: [(String, String)]
    /// A per-rank timing table, when there is one.
    var timings: String?
    /// The local B map's section (`scale --bfactor-map`).
    var localB: LocalBReport?

    private static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]

    /// The files a report on maps named `maps` ("input", "output", "map") writes into `directory`.
    public static func files(in directory: String, maps: [String]) -> [String] {
        (["report.html", "summary.json"] + maps.flatMap { ["fsc-\($0).csv", "residues-\($0).csv"] })
            .map { directory + "/" + $0 }
    }

    /// Writes the report's files into `directory` (made when missing) through `outputs`.
    func write(to directory: String, in outputs: OutputFiles) throws {
        func save(_ text: String, _ name: String) throws {
            try outputs.write(Array(text.utf8), to: directory + "/" + name)
        }
        var maps: [String: Any] = [:]
        for v in validations {
            maps[v.name] = v.summary
            try save(v.fscCSV, "fsc-\(v.name).csv")
            if !v.residues.isEmpty { try save(v.residuesCSV, "residues-\(v.name).csv") }
        }
        let summary: [String: Any] = ["maps": maps, "parameters": Dictionary(parameters, uniquingKeysWith: { $1 })]
        let json = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
        try save(String(decoding: json, as: UTF8.self), "summary.json")
        try save(html, "report.html")
    }

    var html: String {
        var page = """
        <!DOCTYPE html><html><head><meta charset="utf-8"><title>localscale report</title>
        <style>body{font-family:sans-serif;margin:24px;max-width:1200px}table{border-collapse:collapse}
        td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}figure{display:inline-block;margin:6px}</style>
        </head><body><h1>localscale report</h1>
        """
        page += "<h2>Summary</h2><table><tr><th>map</th><th>FSC model 0.5 (Å)</th><th>masked (Å)</th>"
            + "<th>half-map 0.143 (Å)</th><th>RSCC (mask)</th><th>RSCC (2.5 Å of atoms)</th><th>Guinier B (Å²)</th></tr>"
        for v in validations {
            let cells = [v.name, formatDecimal(v.fsc.resolution(at: 0.5), digits: 2),
                         v.maskedFSC.map { formatDecimal($0.resolution(at: 0.5), digits: 2) } ?? "–",
                         v.halfMapFSC.map { formatDecimal($0.resolution(at: 0.143), digits: 2) } ?? "–",
                         formatDecimal(v.rscc, digits: 4), v.rsccNearAtoms.map { formatDecimal($0, digits: 4) } ?? "–",
                         v.guinierB.map { formatDecimal($0, digits: 1) } ?? "–"]
            page += "<tr>" + cells.map { "<td>\(escape($0))</td>" }.joined() + "</tr>"
        }
        page += "</table>"

        var fscSeries: [LineChart.Series] = []
        var profileSeries: [LineChart.Series] = []
        for (i, v) in validations.enumerated() {
            let color = Self.colors[(2 * i) % Self.colors.count], other = Self.colors[(2 * i + 1) % Self.colors.count]
            func points(_ curve: FSCCurve) -> [(x: Double, y: Double)] {
                curve.correlation.indices.map { (Double($0) * curve.shellWidth, curve.correlation[$0]) }
            }
            fscSeries.append(.init(name: "\(v.name) vs model", color: color, points: points(v.fsc)))
            if let masked = v.maskedFSC { fscSeries.append(.init(name: "\(v.name) masked", color: other, points: points(masked))) }
            if let half = v.halfMapFSC { fscSeries.append(.init(name: "half maps", color: "#7f7f7f", points: points(half))) }
            func profile(_ p: RadialProfile) -> [(x: Double, y: Double)] {
                p.amplitude.indices.dropFirst().compactMap { s in
                    p.amplitude[s] > 0 ? (pow(Double(s) * p.shellWidth, 2), log(p.amplitude[s])) : nil
                }
            }
            profileSeries.append(.init(name: v.name, color: color, points: profile(v.profile)))
            if i == 0 { profileSeries.append(.init(name: "model map", color: "#000000", points: profile(v.modelProfile))) }
        }
        let fscChart = LineChart(title: "Fourier shell correlation", xLabel: "resolution (Å)", yLabel: "FSC",
                                 series: fscSeries, references: [(0.5, "0.5"), (0.143, "0.143")],
                                 xTickLabel: { $0 > 0 ? formatDecimal(1 / $0, digits: 1) : "∞" })
        let profileChart = LineChart(title: "Radial amplitude profile", xLabel: "1/d² (Å⁻²)", yLabel: "ln |F|",
                                     series: profileSeries)
        page += "<h2>Curves</h2><figure>\(fscChart.svg())</figure><figure>\(profileChart.svg())</figure>"
        page += "<h2>Central slices</h2>"
        for v in validations {
            let masks = v.maskSlices?.images.map(\.rows)
            page += "<div>" + v.slices.images.enumerated().map { i, image in
                "<figure>\(sliceImage(image.rows, mask: masks?[i], title: "\(v.name), \(image.title)"))</figure>"
            }.joined() + "</div>"
        }
        if let localB { page += localB.html(maskSlices: validations.first?.maskSlices) }
        for v in validations where !v.residues.isEmpty {
            let worst = v.residues.filter { $0.correlation.isFinite }.sorted { $0.correlation < $1.correlation }.prefix(15)
            page += "<h2>Lowest per-residue RSCC, \(escape(v.name))</h2>"
                + "<table><tr><th>chain</th><th>residue</th><th>name</th><th>RSCC</th></tr>"
            for r in worst {
                let residue = (r.number.map(String.init) ?? "") + (r.insertionCode.map { String($0) } ?? "")
                page += "<tr><td>\(escape(r.chain))</td><td>\(residue)</td><td>\(escape(r.name))</td>"
                    + "<td>\(formatDecimal(r.correlation, digits: 3))</td></tr>"
            }
            page += "</table><p>All residues: residues-\(escape(v.name)).csv</p>"
        }
        if validations.count >= 2 { page += residueChanges(validations[0], validations[1]) }
        let rows = parameters.map { "<tr><th>\(escape($0.0))</th><td>\(escape($0.1))</td></tr>" }
        page += "<h2>Parameters</h2><table>" + rows.joined() + "</table>"
        if let timings { page += "<h2>Per-rank timings (s)</h2><pre>\(escape(timings))</pre>" }
        return page + "</body></html>\n"
    }

    /// The per-residue RSCC of `before` and `after` side by side: the residues whose RSCC changes
    /// most (largest |after − before| first); empty when the maps have no residues.
    func residueChanges(_ before: MapValidation, _ after: MapValidation, count: Int = 15) -> String {
        guard !before.residues.isEmpty, before.residues.count == after.residues.count else { return "" }
        let pairs = zip(before.residues, after.residues)
            .filter { $0.0.correlation.isFinite && $0.1.correlation.isFinite }
        func change(_ pair: (ResidueCorrelation, ResidueCorrelation)) -> Double {
            abs(pair.1.correlation - pair.0.correlation)
        }
        let largest = pairs.sorted { change($0) > change($1) }.prefix(count)
        var table = "<h2>Per-residue RSCC, \(escape(before.name)) and \(escape(after.name)): the \(largest.count) "
            + "residues that change most</h2><table><tr><th>chain</th><th>residue</th><th>name</th>"
            + "<th>RSCC \(escape(before.name))</th><th>RSCC \(escape(after.name))</th><th>change</th></tr>"
        for (b, a) in largest {
            let number = "\(b.number.map(String.init) ?? "")\(b.insertionCode.map { String($0) } ?? "")"
            let cells = [b.chain, number, b.name, formatDecimal(b.correlation, digits: 3),
                         formatDecimal(a.correlation, digits: 3),
                         formatDecimal(a.correlation - b.correlation, digits: 3)]
            table += "<tr>" + cells.map { "<td>\(escape($0))</td>" }.joined() + "</tr>"
        }
        return table + "</table>"
    }
}
