import LocScaleCore
import LocScaleParallel

/// The Benjamini–Yekutieli adjustment (LocScale 2's `pAdjust`, method "BY") of candidate p-values
/// spread over the ranks, without gathering them: each rank learns where its own candidates
/// stand in the merged order of all (`visitRing`: every other rank's list passes by once), and
/// the terms `p · (n/(j+1)) · H(n)` of its own positions `j`. On one rank it is the loop over the
/// sorted p-values; on any number of ranks every term, and so every `q` and the mask's limit,
/// has the same bits: a term depends only on a p-value and its position, and equal p-values
/// are interchangeable.
struct RankedCandidates {
    /// This rank's candidates' p-values, ascending.
    let pValues: [Double]
    /// Each one's position among every rank's candidates (ties: lower ranks first).
    let positions: [Int]
    /// The position of the last candidate, over every rank, equal to each one.
    let lastEqual: [Int]
    /// Candidates over every rank.
    let total: Int
    /// `p · (n/(j+1)) · H(n)` of each, `j` its position, `n` the voxels tested.
    let terms: [Double]

    /// Collective.
    init(_ pValues: [Double], tested: Int, communicator comm: Communicator) throws {
        var positions = Array(pValues.indices), lastEqual = pValues.indices.map { _ in 0 }
        var own = 0
        for i in pValues.indices {
            while own < pValues.count && pValues[own] <= pValues[i] { own += 1 }
            lastEqual[i] = own - 1
        }
        var total = pValues.count
        try comm.visitRing(pValues) { origin, other in
            total += other.count
            var below = 0, through = 0    // of `other`: values < p, values ≤ p
            for i in pValues.indices {
                let p = pValues[i]
                while below < other.count && other[below] < p { below += 1 }
                while through < other.count && other[through] <= p { through += 1 }
                positions[i] += origin < comm.rank ? through : below
                lastEqual[i] += through
            }
        }
        let n = Double(tested), h = FDRConfidence.harmonic(tested)
        terms = zip(pValues, positions).map { p, j in p * (n / Double(j + 1)) * h }
        (self.pValues, self.positions, self.lastEqual, self.total) = (pValues, positions, lastEqual, total)
    }

    /// The p-value limit of the mask at false discovery rate `fdr`: a candidate is in the mask
    /// when `q = min(1, terms at or after its last equal position) ≤ fdr` (as `isMasked`), which,
    /// `q` never falling along the positions, holds for the positions up to the last whose own
    /// term passes, K — that is for the p-values below the one at K + 1 (`bound` when K is the
    /// last position; −∞ when no term passes). `fdr` < 1 (at 1, `q = 1` itself would pass).
    /// Collective.
    func maskLimit(fdr: Double, bound: Double, communicator comm: Communicator) throws -> Double {
        precondition(fdr > 0 && fdr < 1, "false discovery rate outside (0, 1)")
        var last = -1
        for (j, term) in zip(positions, terms) where ConfidenceMask.isMasked(q: term, fdr: fdr) { last = max(last, j) }
        let k = Int(try comm.allReduceMax([Double(last)])[0])
        if k < 0 { return -.infinity }
        if k + 1 == total { return bound }
        let next = positions.firstIndex(of: k + 1).map { pValues[$0] } ?? .infinity
        return try comm.allReduceMin([next])[0]
    }

    /// `q` of each of this rank's candidates: 1 at most, and no more than any term of the
    /// positions from its last equal one on, over every rank. Collective.
    func adjusted(communicator comm: Communicator) throws -> [Double] {
        // This rank's terms' minima from each position on, and the pairs (position, minimum).
        var suffix = terms
        for i in suffix.indices.reversed().dropFirst() { suffix[i] = min(suffix[i], suffix[i + 1]) }
        var q = [Double](repeating: 1, count: terms.count)
        func lower(by positionsAndMinima: [Double]) {
            var k = 0
            for i in q.indices {
                while k < positionsAndMinima.count / 2 && Int(positionsAndMinima[2 * k]) < lastEqual[i] { k += 1 }
                if k < positionsAndMinima.count / 2 { q[i] = min(q[i], positionsAndMinima[2 * k + 1]) }
            }
        }
        var pairs = [Double](repeating: 0, count: 2 * terms.count)
        for i in terms.indices { (pairs[2 * i], pairs[2 * i + 1]) = (Double(positions[i]), suffix[i]) }
        lower(by: pairs)
        try comm.visitRing(pairs) { _, other in lower(by: other) }
        return q
    }
}
