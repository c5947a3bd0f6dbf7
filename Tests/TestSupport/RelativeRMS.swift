/// sqrt(Σ(a−b)²/Σb²) over the indices where `include` is true (in double precision).
public func relativeRMS(_ a: [Float], _ b: [Float], where include: (Int) -> Bool = { _ in true }) -> Double {
    var difference = 0.0, reference = 0.0
    for i in a.indices where include(i) {
        let d = Double(a[i]) - Double(b[i])
        difference += d * d
        reference += Double(b[i]) * Double(b[i])
    }
    return (difference / reference).squareRoot()
}
