import Foundation

/// Why a map cannot be scaled, or its output not written, in single precision. One line.
public enum MapRangeError: Error, Equatable, CustomStringConvertible {
    case tooLarge(path: String, x: Int, y: Int, z: Int, value: Float, limit: Float, window: Int)
    /// The final guard: a non-finite output voxel is a defect of the program, not of the input.
    case nonFiniteOutput(x: Int, y: Int, z: Int, value: Float)

    public var description: String {
        switch self {
        case let .tooLarge(path, x, y, z, value, limit, window):
            return "\(path): value too large at voxel (x, y, z) = (\(x), \(y), \(z)): the scaled map could overflow "
                + "float32 (found \(value), expected |value| below \(limit) for --window \(window))"
        case let .nonFiniteOutput(x, y, z, value):
            return "internal error: the scaled map is \(value) at voxel (x, y, z) = (\(x), \(y), \(z)); nothing written"
        }
    }
}

/// Powers of two that bring the experimental and the model map near 1 before the kernels
/// (ARCHITECTURE §1.5). Exact mode carries both cubes in one complex float FFT, so a map much smaller
/// than the other drowns in the larger one's rounding, and squares of maps far from 1 under- or
/// overflow in float. Every mode's output is homogeneous — `out(E·2^a, M·2^b) = 2^b · out(E, M)`
/// — so the run scales `E` by `2^−experimentalExponent`, `M` by `2^−modelExponent`, and the
/// output by `2^modelExponent`, all exactly (powers of two). A map whose largest magnitude lies
/// in `[2^−4, 2^3)` keeps exponent 0, so maps of usual scale keep the bits they had without it.
public struct MapNormalisation: Codable, Equatable, Sendable {
    /// The experimental map is computed as `E · 2^−experimentalExponent`.
    public let experimentalExponent: Int
    /// The model map is computed as `M · 2^−modelExponent`; the output is multiplied by `2^modelExponent`.
    public let modelExponent: Int

    /// Binary exponents (`⌊log2 max|v|⌋`) of the largest magnitudes that need no scaling. Two maps
    /// at the ends differ by 2^6, where exact mode's paired FFT still carries both to 4e-6.
    public static let untouched = -4 ... 2

    public init(experimentalExponent: Int, modelExponent: Int) {
        self.experimentalExponent = experimentalExponent
        self.modelExponent = modelExponent
    }

    /// The exponents for `experimental` and `model` (finite values).
    public init(experimental: [Float], model: [Float]) {
        self.init(experimentalExponent: Self.exponent(of: experimental), modelExponent: Self.exponent(of: model))
    }

    /// 0 when the largest magnitude of `values` has a binary exponent in `untouched` (or all are
    /// 0), else the exponent that brings it into `[0.5, 1)`.
    public static func exponent(of values: [Float]) -> Int {
        exponent(largest: values.reduce(Float(0)) { max($0, $1.magnitude) })
    }

    /// `exponent(of:)` given the largest magnitude of the values (as a distributed run finds it).
    public static func exponent(largest: Float) -> Int {
        guard largest > 0, !untouched.contains(Int(largest.exponent)) else { return 0 }
        return Int(largest.exponent) + 1
    }

    /// `values · 2^−exponent`, exactly (unless a result is subnormal).
    public static func scale(_ values: inout [Float], by exponent: Int) {
        guard exponent != 0 else { return }
        for i in values.indices { values[i] = Float(sign: .plus, exponent: -exponent, significand: values[i]) }
    }

    /// The experimental map as the kernels see it.
    public func normaliseExperimental(_ values: inout [Float]) { Self.scale(&values, by: experimentalExponent) }

    /// The model map as the kernels see it.
    public func normaliseModel(_ values: inout [Float]) { Self.scale(&values, by: modelExponent) }

    /// One experimental value as the kernels see it.
    public func normalisedExperimental(_ value: Float) -> Float {
        Float(sign: .plus, exponent: -experimentalExponent, significand: value)
    }

    /// One model value as the kernels see it.
    public func normalisedModel(_ value: Float) -> Float {
        Float(sign: .plus, exponent: -modelExponent, significand: value)
    }

    /// The output of the normalised maps (a whole box of `shape`) brought back to the model
    /// map's scale.
    /// - Throws: `MapRangeError.nonFiniteOutput` for the first non-finite voxel: the final guard,
    ///   which the input checks keep from firing.
    /// `output` may be the planes from `firstPlane` of the box (a slab); the error names the
    /// voxel in the whole box.
    public func restore(_ output: inout [Float], shape: XYZ<Int>, firstPlane: Int = 0) throws {
        Self.scale(&output, by: -modelExponent)
        guard let i = output.firstIndex(where: { !$0.isFinite }) else { return }
        throw MapRangeError.nonFiniteOutput(x: i % shape.x, y: (i / shape.x) % shape.y,
                                            z: firstPlane + i / (shape.x * shape.y), value: output[i])
    }

    /// Fails when `model`'s largest magnitude times `w^{3/2}` exceeds float32's range: exact
    /// mode's output at a voxel is at most `sqrt(Σ_cube M²) ≤ w^{3/2} · max|M|` (Parseval and
    /// Cauchy–Schwarz over the shells), so below that limit its output cannot overflow.
    public static func checkRange(of model: NamedVolume, window: Int) throws {
        let values = model.volume.values
        guard let i = values.indices.max(by: { values[$0].magnitude < values[$1].magnitude }) else { return }
        try checkRange(largest: values[i], at: i, shape: model.volume.grid.shape, path: model.path, window: window)
    }

    /// `checkRange` given the model map's first value of largest magnitude, `largest`, at linear
    /// (z, y, x) index `i` of a box of `shape` (as a distributed run finds it).
    public static func checkRange(largest: Float, at i: Int, shape s: XYZ<Int>, path: String, window: Int) throws {
        let limit = Float(Double(Float.greatestFiniteMagnitude) / pow(Double(window), 1.5))
        guard largest.magnitude >= limit else { return }
        throw MapRangeError.tooLarge(path: path, x: i % s.x, y: (i / s.x) % s.y, z: i / (s.x * s.y),
                                     value: largest, limit: limit, window: window)
    }
}
