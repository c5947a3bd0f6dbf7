import Foundation
import LocScaleCore

/// A line chart as inline SVG: the only plotting code of the report.
struct LineChart {
    struct Series {
        let name: String
        let color: String
        let points: [(x: Double, y: Double)]
    }

    let title: String
    let xLabel: String
    let yLabel: String
    let series: [Series]
    /// Horizontal reference lines (e.g. FSC 0.143 and 0.5), dashed.
    var references: [(value: Double, label: String)] = []
    /// Tick labels for x values (e.g. resolution in Å for a frequency axis).
    var xTickLabel: (Double) -> String = { formatDecimal($0, digits: 3) }

    func svg(width: Double = 560, height: Double = 320) -> String {
        let left = 60.0, right = 130.0, top = 30.0, bottom = 45.0
        let finite = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        guard !finite.isEmpty else { return "<p>(no data for \(escape(title)))</p>" }
        let xs = finite.map(\.x), ys = finite.map(\.y) + references.map(\.value)
        let (x0, x1) = (xs.min()!, xs.max()! > xs.min()! ? xs.max()! : xs.min()! + 1)
        var (y0, y1) = (ys.min()!, ys.max()!)
        if y1 <= y0 { y1 = y0 + 1 }
        let pad = 0.05 * (y1 - y0)
        (y0, y1) = (y0 - pad, y1 + pad)
        let plotW = width - left - right, plotH = height - top - bottom
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * plotW }
        func py(_ y: Double) -> Double { top + (1 - (y - y0) / (y1 - y0)) * plotH }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">"
        out += "<rect x=\"0\" y=\"0\" width=\"\(Int(width))\" height=\"\(Int(height))\" fill=\"white\"/>"
        out += "<text x=\"\(left)\" y=\"18\" font-size=\"13\" font-weight=\"bold\">\(escape(title))</text>"
        out += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotW)\" height=\"\(plotH)\" fill=\"none\" stroke=\"#444\"/>"
        for i in 0...4 {
            let x = x0 + Double(i) / 4 * (x1 - x0), y = y0 + Double(i) / 4 * (y1 - y0)
            out += "<text x=\"\(f(px(x)))\" y=\"\(f(top + plotH + 15))\" text-anchor=\"middle\">\(escape(xTickLabel(x)))</text>"
            out += "<text x=\"\(f(left - 5))\" y=\"\(f(py(y) + 4))\" text-anchor=\"end\">\(formatDecimal(y, digits: 2))</text>"
            out += "<line x1=\"\(f(left))\" x2=\"\(f(left + plotW))\" y1=\"\(f(py(y)))\" y2=\"\(f(py(y)))\" stroke=\"#eee\"/>"
        }
        out += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\">"
            + "\(escape(xLabel))</text>"
        out += "<text transform=\"translate(14 \(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>"
        for reference in references {
            let y = f(py(reference.value))
            out += "<line x1=\"\(f(left))\" x2=\"\(f(left + plotW))\" y1=\"\(y)\" y2=\"\(y)\" "
                + "stroke=\"#999\" stroke-dasharray=\"4 3\"/>"
            out += "<text x=\"\(f(left + plotW - 3))\" y=\"\(f(py(reference.value) - 3))\" text-anchor=\"end\" "
                + "fill=\"#666\">\(escape(reference.label))</text>"
        }
        for (index, s) in series.enumerated() {
            let points = s.points.filter { $0.x.isFinite && $0.y.isFinite }.map { "\(f(px($0.x))),\(f(py($0.y)))" }
            out += "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.8\" points=\"\(points.joined(separator: " "))\"/>"
            let ly = top + 14 + Double(index) * 16
            out += "<line x1=\"\(f(width - right + 10))\" x2=\"\(f(width - right + 28))\" "
                + "y1=\"\(f(ly - 4))\" y2=\"\(f(ly - 4))\" stroke=\"\(s.color)\" stroke-width=\"2\"/>"
            out += "<text x=\"\(f(width - right + 32))\" y=\"\(f(ly))\">\(escape(s.name))</text>"
        }
        return out + "</svg>"
    }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }
}

/// A central slice of a map as an SVG grid of grey squares (at most 96 × 96, averaged down),
/// black to white from the 1st to the 99th percentile of the squares inside `mask` (the same
/// slice of the mask, a square inside when its mean is ≥ 0.5), or of all squares without a mask
/// or with fewer than two inside — so that the molecule, not the solvent around it, sets the
/// contrast.
func sliceImage(_ slice: [[Float]], mask: [[Float]]? = nil, title: String, size: Double = 180) -> String {
    let rows = slice.count, columns = slice.first?.count ?? 0
    guard rows > 0, columns > 0 else { return "" }
    let step = max(1, max(rows, columns) / 96)
    func averaged(_ image: [[Float]]) -> [[Double]] {
        stride(from: 0, to: rows, by: step).map { r in
            stride(from: 0, to: columns, by: step).map { c in
                var sum = 0.0, count = 0.0
                for rr in r..<min(rows, r + step) {
                    for cc in c..<min(columns, c + step) { sum += Double(image[rr][cc]); count += 1 }
                }
                return sum / count
            }
        }
    }
    let cells = averaged(slice)
    let inside = mask.map { zip(cells.joined(), averaged($0).joined()).filter { $0.1 >= 0.5 }.map(\.0) } ?? []
    let sorted = (inside.count >= 2 ? inside : Array(cells.joined())).sorted()
    let low = sorted[Int(0.01 * Double(sorted.count - 1))], high = sorted[Int(0.99 * Double(sorted.count - 1))]
    let cell = size / Double(max(cells.count, cells[0].count))
    func f(_ v: Double) -> String { String(format: "%.2f", v) }
    var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(size))\" height=\"\(Int(size + 16))\" "
        + "shape-rendering=\"crispEdges\">"
    out += "<text x=\"2\" y=\"12\" font-family=\"sans-serif\" font-size=\"11\">\(escape(title))</text>"
    for (r, row) in cells.enumerated() {
        for (c, value) in row.enumerated() {
            let grey = Int(255 * min(1, max(0, high > low ? (value - low) / (high - low) : 0.5)))
            let y = 16 + Double(cells.count - 1 - r) * cell
            out += "<rect x=\"\(f(Double(c) * cell))\" y=\"\(f(y))\" width=\"\(f(cell + 0.05))\" "
                + "height=\"\(f(cell + 0.05))\" fill=\"rgb(\(grey),\(grey),\(grey))\"/>"
        }
    }
    return out + "</svg>"
}

/// Plots of the report that are not line charts.
enum SVGPlot {
    /// A histogram of `values` as inline SVG: `bins` equal bins from the smallest to the largest
    /// finite value (or over `range`, values outside it left out), bar heights the counts, the x
    /// axis labelled `xLabel` with the bins' edges, the y axis "voxels" (or `yLabel`) with counts.
    /// Non-finite values are left out and counted in the title's note.
    static func histogram(_ values: [Double], bins: Int = 40, range: ClosedRange<Double>? = nil, title: String,
                          xLabel: String, yLabel: String = "voxels", color: String = "#1f77b4",
                          width: Double = 560, height: Double = 320) -> String {
        precondition(bins > 0)
        let finite = values.filter(\.isFinite)
        let low = range?.lowerBound ?? finite.min(), high = range?.upperBound ?? finite.max()
        let counts = low.flatMap { low in high.map { binned(finite, bins: bins, range: low...max(low, $0)) } }
        return histogram(counts: counts ?? [], range: (low ?? 0)...max(low ?? 0, high ?? 0),
                         skipped: values.count - finite.count, title: title, xLabel: xLabel, yLabel: yLabel,
                         color: color, width: width, height: height)
    }

    /// Counts of `values` in `bins` equal bins over `range` (values outside it left out), the same
    /// for any order of the values: per-rank counts add up to one process's.
    static func binned(_ values: [Double], bins: Int, range: ClosedRange<Double>) -> [Int] {
        let (low, high) = (range.lowerBound, range.upperBound)
        let span = high > low ? high - low : 1
        var counts = [Int](repeating: 0, count: bins)
        for v in values where v >= low && v <= high { counts[min(bins - 1, Int((v - low) / span * Double(bins)))] += 1 }
        return counts
    }

    /// The histogram of counts already binned over `range` (`counts` empty: "no data"); `skipped`
    /// values left out are noted in the title.
    static func histogram(counts: [Int], range: ClosedRange<Double>, skipped: Int = 0, title: String,
                          xLabel: String, yLabel: String = "voxels", color: String = "#1f77b4",
                          width: Double = 560, height: Double = 320) -> String {
        let bins = counts.count
        let left = 70.0, right = 20.0, top = 30.0, bottom = 45.0
        let plotW = width - left - right, plotH = height - top - bottom
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">"
        out += "<rect x=\"0\" y=\"0\" width=\"\(Int(width))\" height=\"\(Int(height))\" fill=\"white\"/>"
        let note = skipped > 0 ? " (\(skipped) non-finite left out)" : ""
        out += "<text x=\"\(left)\" y=\"18\" font-size=\"13\" font-weight=\"bold\">\(escape(title + note))</text>"
        guard bins > 0 else { return out + "<text x=\"\(left)\" y=\"\(top + 20)\">no data</text></svg>" }
        let (low, high) = (range.lowerBound, range.upperBound)
        let span = high > low ? high - low : 1
        let tallest = Double(max(1, counts.max()!))
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        out += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotW)\" height=\"\(plotH)\" fill=\"none\" stroke=\"#444\"/>"
        let barW = plotW / Double(bins)
        for (i, count) in counts.enumerated() where count > 0 {
            let h = Double(count) / tallest * plotH
            out += "<rect x=\"\(f(left + Double(i) * barW))\" y=\"\(f(top + plotH - h))\" width=\"\(f(barW))\" "
                + "height=\"\(f(h))\" fill=\"\(color)\" stroke=\"white\" stroke-width=\"0.5\">"
                + "<title>\(count)</title></rect>"
        }
        for i in 0...4 {
            let x = low + Double(i) / 4 * span, y = Double(i) / 4 * tallest
            out += "<text x=\"\(f(left + Double(i) / 4 * plotW))\" y=\"\(f(top + plotH + 15))\" text-anchor=\"middle\">"
                + "\(formatDecimal(x, digits: 2))</text>"
            out += "<text x=\"\(f(left - 5))\" y=\"\(f(top + plotH - Double(i) / 4 * plotH + 4))\" text-anchor=\"end\">"
                + "\(formatDecimal(y, digits: 0))</text>"
        }
        out += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\">"
            + "\(escape(xLabel))</text>"
        out += "<text transform=\"translate(14 \(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">"
            + "\(escape(yLabel))</text>"
        return out + "</svg>"
    }
}

/// `text` with the HTML/XML special characters escaped.
func escape(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
