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
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">"
        out += "<rect x=\"0\" y=\"0\" width=\"\(Int(width))\" height=\"\(Int(height))\" fill=\"white\"/>"
        out += "<text x=\"\(left)\" y=\"18\" font-size=\"13\" font-weight=\"bold\">\(escape(title))</text>"
        out += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotW)\" height=\"\(plotH)\" fill=\"none\" stroke=\"#444\"/>"
        for i in 0...4 {
            let x = x0 + Double(i) / 4 * (x1 - x0), y = y0 + Double(i) / 4 * (y1 - y0)
            out += "<text x=\"\(f(px(x)))\" y=\"\(f(top + plotH + 15))\" text-anchor=\"middle\">\(escape(xTickLabel(x)))</text>"
            out += "<text x=\"\(f(left - 5))\" y=\"\(f(py(y) + 4))\" text-anchor=\"end\">\(formatDecimal(y, digits: 2))</text>"
            out += "<line x1=\"\(f(left))\" x2=\"\(f(left + plotW))\" y1=\"\(f(py(y)))\" y2=\"\(f(py(y)))\" stroke=\"#eee\"/>"
        }
        out += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\">\(escape(xLabel))</text>"
        out += "<text transform=\"translate(14 \(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>"
        for reference in references {
            out += "<line x1=\"\(f(left))\" x2=\"\(f(left + plotW))\" y1=\"\(f(py(reference.value)))\" y2=\"\(f(py(reference.value)))\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>"
            out += "<text x=\"\(f(left + plotW - 3))\" y=\"\(f(py(reference.value) - 3))\" text-anchor=\"end\" fill=\"#666\">\(escape(reference.label))</text>"
        }
        for (index, s) in series.enumerated() {
            let points = s.points.filter { $0.x.isFinite && $0.y.isFinite }.map { "\(f(px($0.x))),\(f(py($0.y)))" }
            out += "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.8\" points=\"\(points.joined(separator: " "))\"/>"
            let ly = top + 14 + Double(index) * 16
            out += "<line x1=\"\(f(width - right + 10))\" x2=\"\(f(width - right + 28))\" y1=\"\(f(ly - 4))\" y2=\"\(f(ly - 4))\" stroke=\"\(s.color)\" stroke-width=\"2\"/>"
            out += "<text x=\"\(f(width - right + 32))\" y=\"\(f(ly))\">\(escape(s.name))</text>"
        }
        return out + "</svg>"
    }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }
}

/// A central slice of a map as an SVG grid of grey squares (at most 96 × 96, averaged down),
/// scaled from the slice's 1st to 99th percentile.
func sliceImage(_ slice: [[Float]], title: String, size: Double = 180) -> String {
    let rows = slice.count, columns = slice.first?.count ?? 0
    guard rows > 0, columns > 0 else { return "" }
    let step = max(1, max(rows, columns) / 96)
    var cells: [[Double]] = []
    for r in stride(from: 0, to: rows, by: step) {
        var row: [Double] = []
        for c in stride(from: 0, to: columns, by: step) {
            var sum = 0.0, count = 0.0
            for rr in r..<min(rows, r + step) { for cc in c..<min(columns, c + step) { sum += Double(slice[rr][cc]); count += 1 } }
            row.append(sum / count)
        }
        cells.append(row)
    }
    let sorted = cells.flatMap { $0 }.sorted()
    let low = sorted[Int(0.01 * Double(sorted.count - 1))], high = sorted[Int(0.99 * Double(sorted.count - 1))]
    let cell = size / Double(max(cells.count, cells[0].count))
    var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(size))\" height=\"\(Int(size + 16))\" shape-rendering=\"crispEdges\">"
    out += "<text x=\"2\" y=\"12\" font-family=\"sans-serif\" font-size=\"11\">\(escape(title))</text>"
    for (r, row) in cells.enumerated() {
        for (c, value) in row.enumerated() {
            let grey = Int(255 * min(1, max(0, high > low ? (value - low) / (high - low) : 0.5)))
            let y = 16 + Double(cells.count - 1 - r) * cell
            out += "<rect x=\"\(String(format: "%.2f", Double(c) * cell))\" y=\"\(String(format: "%.2f", y))\" width=\"\(String(format: "%.2f", cell + 0.05))\" height=\"\(String(format: "%.2f", cell + 0.05))\" fill=\"rgb(\(grey),\(grey),\(grey))\"/>"
        }
    }
    return out + "</svg>"
}

/// `text` with the HTML/XML special characters escaped.
func escape(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
