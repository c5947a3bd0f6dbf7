/// A map: its grid and its values in (z, y, x) order, x fastest.
public struct Volume: Sendable {
    public var grid: Grid
    public var values: [Float]

    public init(grid: Grid, values: [Float]) {
        precondition(values.count == grid.voxelCount, "values do not fill the grid")
        self.grid = grid
        self.values = values
    }

    /// A volume of zeros on `grid`.
    public init(zerosOn grid: Grid) {
        self.init(grid: grid, values: [Float](repeating: 0, count: grid.voxelCount))
    }

    /// Value at voxel (x, y, z).
    public subscript(x: Int, y: Int, z: Int) -> Float {
        get { values[grid.index(x: x, y: y, z: z)] }
        set { values[grid.index(x: x, y: y, z: z)] = newValue }
    }

    /// Minimum, maximum, mean and RMS deviation from the mean, accumulated in double precision.
    public var statistics: MapStatistics { MapStatistics(values) }
}

/// Summary statistics of map values, as stored in the MRC header (DMIN, DMAX, DMEAN, RMS).
public struct MapStatistics: Equatable, Sendable {
    public var minimum: Float
    public var maximum: Float
    public var mean: Double
    /// Root-mean-square deviation from the mean (MRC2014's RMS).
    public var rms: Double

    /// Statistics computed elsewhere (from partial sums over slabs, say).
    public init(minimum: Float, maximum: Float, mean: Double, rms: Double) {
        self.minimum = minimum
        self.maximum = maximum
        self.mean = mean
        self.rms = rms
    }

    public init(_ values: [Float]) {
        guard !values.isEmpty else {
            self.minimum = 0; self.maximum = 0; self.mean = 0; self.rms = 0
            return
        }
        var lo = Float.infinity, hi = -Float.infinity
        var sum = 0.0
        for v in values {
            lo = Swift.min(lo, v)
            hi = Swift.max(hi, v)
            sum += Double(v)
        }
        let mean = sum / Double(values.count)
        var squares = 0.0
        for v in values {
            let d = Double(v) - mean
            squares += d * d
        }
        self.minimum = lo
        self.maximum = hi
        self.mean = mean
        self.rms = (squares / Double(values.count)).squareRoot()
    }
}
