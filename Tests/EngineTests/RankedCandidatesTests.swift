import Foundation
import Testing
import LocScaleCore
@testable import LocScaleEngine
import TestSupport

/// The Benjamini–Yekutieli adjustment without gathering, on one rank in-process against LocScale 2's
/// loop over every p-value (several ranks: the confidence and automatic-mask CLI tests, N ∈ 1…4,
/// bit for bit). In `ScaleRunTests`' suite, so that MPI is called from one thread.
extension ScaleRunTests {
    @Test("RankedCandidates: LocScale 2's pAdjust over all p-values from the candidates alone; ties share q; the mask's limit")
    func rankedCandidates() throws {
        var random = SplitMix64(seed: 11)
        let n = 5000
        var p = (0..<n).map { _ in pow(Double.random(in: 0..<1, using: &random), 3) }
        p[10] = p[11]                                   // ties
        for i in 20..<26 { p[i] = p[19] }
        let sorted = p.sorted()
        // LocScale 2's pAdjust over every p-value; a p-value takes the q of the last equal one.
        let h = FDRConfidence.harmonic(n)
        var full = [Double](repeating: 0, count: n), previous = 1.0
        for i in stride(from: n - 1, through: 0, by: -1) {
            previous = min(previous, sorted[i] * (Double(n) / Double(i + 1)) * h)
            full[i] = previous
        }
        let bound = FDRConfidence.candidateBound(count: n)
        let candidates = sorted.filter { $0 < bound }
        #expect(candidates.count < n && candidates.count > 100)
        #expect(full[candidates.count...].allSatisfy { $0 == 1 })
        let ranked = try RankedCandidates(candidates, tested: n, communicator: Self.communicator)
        #expect(ranked.positions == Array(candidates.indices) && ranked.total == candidates.count)
        #expect(try ranked.adjusted(communicator: Self.communicator)
                == candidates.map { full[sorted.lastIndex(of: $0)!] })
        for fdr in [0.01, 0.2, 1e-9] {
            // The mask: q ≤ fdr (as the confidence map's test), as a p-value limit.
            let limit = try ranked.maskLimit(fdr: fdr, bound: bound, communicator: Self.communicator)
            let masked = candidates.filter { ConfidenceMask.isMasked(q: full[sorted.lastIndex(of: $0)!], fdr: fdr) }
            #expect(candidates.filter { $0 < limit } == masked, "fdr \(fdr)")
        }
        #expect(try ranked.maskLimit(fdr: 1e-9, bound: bound, communicator: Self.communicator) == -.infinity)
        // Every candidate in the mask: the limit is the candidates' bound.
        let tiny = try RankedCandidates((1...100).map { Double($0) * 1e-12 }, tested: n, communicator: Self.communicator)
        #expect(try tiny.maskLimit(fdr: 0.01, bound: bound, communicator: Self.communicator) == bound)
    }
}
