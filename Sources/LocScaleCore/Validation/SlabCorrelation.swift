/// Voxels of a slab (indices into its (z, y, x) values) that a correlation runs over.
public enum CorrelationVoxels: Sendable {
    /// Every voxel.
    case all
    /// The voxels whose flag is set (one flag per voxel of the slab).
    case flagged([Bool])
    /// These voxels, ascending.
    case indices([Int])

    /// Calls `body` with each selected index of a slab of `count` voxels, ascending.
    @inline(__always)
    func forEach(count: Int, _ body: (Int) -> Void) {
        switch self {
        case .all: for i in 0..<count { body(i) }
        case .flagged(let flags): for i in 0..<count where flags[i] { body(i) }
        case .indices(let indices): for i in indices { body(i) }
        }
    }
}

/// Pearson correlations of two maps over sets of voxels, in double precision, as two passes — the
/// sums, then the sums of products of deviations from the means — that a map cut into z-slabs runs
/// slab after slab: each pass continues the running sums of the slabs before it (`fold`), so that
/// slabs passed in plane order give the numbers of one pass over the whole map, bit for bit.
public struct SlabCorrelation: Sendable {
    /// A fold of running sums over the slabs in plane order: called with the initial sums and the
    /// step that continues them over this slab; returns the sums after the last slab. One process
    /// holding the whole map folds with `SlabCorrelation.wholeMap`; MPI ranks pass their
    /// communicator's `fold`.
    public typealias Fold = ([Double], ([Double]) -> [Double]) throws -> [Double]

    /// The fold of one process holding every plane: the step applied once.
    public static func wholeMap(_ initial: [Double], _ step: ([Double]) -> [Double]) -> [Double] { step(initial) }

    /// The voxel sets, one correlation each.
    public let selections: [CorrelationVoxels]

    public init(selections: [CorrelationVoxels]) {
        self.selections = selections
    }

    /// The correlation of `a` and `b` (this slab's values, same count) over each selection, and
    /// the number of voxels each had over all slabs. NaN where a selection has no voxels or no
    /// variance. Collective when `fold` is.
    public func correlations(_ a: [Float], _ b: [Float], fold: Fold) rethrows -> (values: [Double], counts: [Int]) {
        precondition(a.count == b.count)
        let k = selections.count
        // Pass 1: Σa, Σb and the count per selection.
        let totals = try fold([Double](repeating: 0, count: 3 * k)) { running in
            var sums = running
            for (s, selection) in selections.enumerated() {
                var sa = sums[3 * s], sb = sums[3 * s + 1], n = sums[3 * s + 2]
                selection.forEach(count: a.count) { i in sa += Double(a[i]); sb += Double(b[i]); n += 1 }
                (sums[3 * s], sums[3 * s + 1], sums[3 * s + 2]) = (sa, sb, n)
            }
            return sums
        }
        // Pass 2: Σ(a−ā)², Σ(b−b̄)², Σ(a−ā)(b−b̄) per selection.
        let deviations = try fold([Double](repeating: 0, count: 3 * k)) { running in
            var sums = running
            for (s, selection) in selections.enumerated() {
                let n = totals[3 * s + 2], ma = totals[3 * s] / n, mb = totals[3 * s + 1] / n
                var saa = sums[3 * s], sbb = sums[3 * s + 1], sab = sums[3 * s + 2]
                selection.forEach(count: a.count) { i in
                    let x = Double(a[i]) - ma, y = Double(b[i]) - mb
                    saa += x * x; sbb += y * y; sab += x * y
                }
                (sums[3 * s], sums[3 * s + 1], sums[3 * s + 2]) = (saa, sbb, sab)
            }
            return sums
        }
        var values: [Double] = [], counts: [Int] = []
        for s in 0..<k {
            let saa = deviations[3 * s], sbb = deviations[3 * s + 1], sab = deviations[3 * s + 2]
            values.append(sab / (saa * sbb).squareRoot())
            counts.append(Int(totals[3 * s + 2]))
        }
        return (values, counts)
    }
}
