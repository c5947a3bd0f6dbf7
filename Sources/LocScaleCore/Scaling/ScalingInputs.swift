import Foundation

/// A map and the path it came from (used in every message about it).
public struct NamedVolume: Sendable {
    public var path: String
    public var volume: Volume

    public init(path: String, volume: Volume) {
        self.path = path
        self.volume = volume
    }
}

/// Why the inputs of a scaling run cannot be used. One line that names the file and the problem.
public enum ScalingInputError: Error, Equatable, CustomStringConvertible {
    case gridMismatch(path: String, property: String, value: String, referencePath: String, referenceValue: String)
    case emptyMask(path: String)
    /// `defaultFor`: the mean voxel size (Å) the default window was derived from; nil for `--window`.
    case windowTooSmall(window: Int, defaultFor: Double?)
    case windowTooLarge(window: Int, defaultFor: Double?, path: String, shape: String)
    case nonFinite(path: String, x: Int, y: Int, z: Int, value: Float)
    /// Two finite half maps whose float32 average is not (both near ±3.4e38).
    case nonFiniteAverage(paths: [String], x: Int, y: Int, z: Int, value: Float)

    public var description: String {
        switch self {
        case let .gridMismatch(path, property, value, referencePath, referenceValue):
            return "\(path): \(property) \(value) differs from \(referencePath)'s \(referenceValue)"
        case let .emptyMask(path):
            return "\(path): empty mask: no voxel is >= 0.5"
        case let .windowTooSmall(window, defaultFor):
            return "\(Self.windowName(window, defaultFor)): the window must be at least 4 voxels"
        case let .windowTooLarge(window, defaultFor, path, shape):
            return "\(Self.windowName(window, defaultFor)): larger than the smallest box dimension of \(path) (\(shape) voxels)"
        case let .nonFinite(path, x, y, z, value):
            return "\(path): \(value) at voxel (x, y, z) = (\(x), \(y), \(z)); maps must be finite"
        case let .nonFiniteAverage(paths, x, y, z, value):
            return "\(paths.joined(separator: " + ")): their average is \(value) at voxel (x, y, z) = "
                + "(\(x), \(y), \(z)); maps must be finite"
        }
    }

    /// "--window 8", or for the default "the default window of 2 voxels (25 Å at 12.5 Å per voxel;
    /// give --window)".
    private static func windowName(_ window: Int, _ defaultFor: Double?) -> String {
        guard let voxel = defaultFor else { return "--window \(window)" }
        return "the default window of \(window) voxels (25 Å at \(formatDecimal(voxel)) Å per voxel; give --window)"
    }
}

/// The experimental map, the model map and the optional mask of one run, checked for
/// consistency (same shape, voxel size and origin; finite values; a non-empty mask).
public struct ScalingInputs: Sendable {
    public let experimental: NamedVolume
    public let model: NamedVolume
    public let mask: NamedVolume?

    /// Checks the maps against each other; `window` (voxels) is checked against the box, and named
    /// in errors as the default window when `windowIsDefault`.
    /// - Throws: `ScalingInputError`.
    public init(experimental: NamedVolume, model: NamedVolume, mask: NamedVolume?, window: Int,
                windowIsDefault: Bool = false) throws {
        for other in [model] + (mask.map { [$0] } ?? []) {
            try Self.checkSameGrid(other, as: experimental)
        }
        for map in [experimental, model] + (mask.map { [$0] } ?? []) {
            try Self.checkFinite(map)
        }
        try Self.checkWindow(window, isDefault: windowIsDefault, for: experimental.volume.grid,
                             path: experimental.path)
        if let mask, !mask.volume.values.contains(where: { $0 >= 0.5 }) {
            throw ScalingInputError.emptyMask(path: mask.path)
        }
        self.experimental = experimental
        self.model = model
        self.mask = mask
    }

    /// Whether voxel `index` is scaled: mask ≥ 0.5, or every voxel without a mask.
    @inline(__always)
    public func isScaled(_ index: Int) -> Bool {
        guard let mask else { return true }
        return mask.volume.values[index] >= 0.5
    }

    /// Mean of `map` over the voxels that are not scaled (the whole map when every voxel is
    /// scaled): the value that extends cubes beyond the box.
    public func meanOutsideMask(_ map: Volume) -> Float {
        var sum = 0.0, count = 0
        if let mask {
            for (i, v) in map.values.enumerated() where mask.volume.values[i] < 0.5 {
                sum += Double(v)
                count += 1
            }
        }
        if count == 0 { return Float(map.statistics.mean) }
        return Float(sum / Double(count))
    }

    /// Fails when `window` (voxels) is below 4 or larger than the smallest dimension of `grid`,
    /// the grid of the map at `path`; `isDefault` names it as the default window.
    public static func checkWindow(_ window: Int, isDefault: Bool, for grid: Grid, path: String) throws {
        let shape = grid.shape
        let defaultFor = isDefault ? grid.meanVoxelSize : nil
        guard window >= 4 else { throw ScalingInputError.windowTooSmall(window: window, defaultFor: defaultFor) }
        guard window <= min(shape.x, shape.y, shape.z) else {
            throw ScalingInputError.windowTooLarge(window: window, defaultFor: defaultFor, path: path,
                                                   shape: Self.format(shape))
        }
    }

    /// Fails when `map` is not on the grid of `reference` (shape, voxel size, origin), naming both.
    public static func checkSameGrid(_ map: NamedVolume, as reference: NamedVolume) throws {
        try checkSameGrid(map.volume.grid, of: map.path, as: reference.volume.grid, of: reference.path)
    }

    /// Fails when grid `a` of the map at `path` is not grid `b` of the map at `referencePath`
    /// (shape, voxel size, origin), naming both (headers are enough).
    public static func checkSameGrid(_ a: Grid, of path: String, as b: Grid, of referencePath: String) throws {
        func mismatch(_ property: String, _ value: String, _ referenceValue: String) -> ScalingInputError {
            .gridMismatch(path: path, property: property, value: value,
                          referencePath: referencePath, referenceValue: referenceValue)
        }
        guard a.shape == b.shape else {
            throw mismatch("shape", format(a.shape) + " voxels", format(b.shape) + " voxels")
        }
        for axis in 0..<3 where abs(a.voxelSize[axis] - b.voxelSize[axis]) > 1e-4 * b.voxelSize[axis] {
            throw mismatch("voxel size", format(a.voxelSize) + " Å", format(b.voxelSize) + " Å")
        }
        let pa = a.firstVoxelPosition, pb = b.firstVoxelPosition
        for axis in 0..<3 where abs(pa[axis] - pb[axis]) > 1e-3 * b.voxelSize[axis] {
            throw mismatch("origin", "(" + format(pa, separator: ", ") + ") Å",
                           "(" + format(pb, separator: ", ") + ") Å")
        }
    }

    /// Fails at the first NaN or infinite voxel of `map`, naming it.
    public static func checkFinite(_ map: NamedVolume) throws {
        try checkFinite(map.volume.values, shape: map.volume.grid.shape, path: map.path)
    }

    /// Fails at the first NaN or infinite voxel of `values`, the (z, y, x) planes from
    /// `firstPlane` of a map of `shape` read from `path`, naming its (x, y, z) in the whole map.
    public static func checkFinite(_ values: [Float], shape s: XYZ<Int>, firstPlane: Int = 0,
                                   path: String) throws {
        try checkFinite(values[...], shape: s, firstPlane: firstPlane, path: path)
    }

    /// `checkFinite` of a slice of planes (a rank's own planes of the planes it holds).
    public static func checkFinite(_ values: ArraySlice<Float>, shape s: XYZ<Int>, firstPlane: Int = 0,
                                   path: String) throws {
        guard let index = values.firstIndex(where: { !$0.isFinite }) else { return }
        let i = index - values.startIndex
        throw ScalingInputError.nonFinite(path: path, x: i % s.x, y: (i / s.x) % s.y,
                                          z: firstPlane + i / (s.x * s.y), value: values[index])
    }

    static func format(_ v: XYZ<Int>) -> String { "\(v.x)×\(v.y)×\(v.z)" }

    static func format(_ v: XYZ<Double>, separator: String = "×") -> String {
        v.array.map { formatDecimal($0) }.joined(separator: separator)
    }
}

/// `x` with at most `digits` decimals and no trailing zeros ("1.05", "-7.5", "12").
public func formatDecimal(_ x: Double, digits: Int = 4) -> String {
    guard x.isFinite else { return "\(x)" }
    var text = String(format: "%.\(digits)f", x)
    while text.contains(".") && (text.hasSuffix("0") || text.hasSuffix(".")) { text.removeLast() }
    return text == "-0" ? "0" : text
}
