import Testing
import LocScaleCore
@testable import LocScaleEngine

/// Fast mode's planes per rank without MPI: the box planes under each rank's grid slab, extended so
/// that all ranks' planes cover the box's planes once, in rank order (each rank reads and writes
/// them), whatever the grid's placement and however FFTW-MPI splits the grid.
@Suite("Fast mode's box planes per rank (pure, no MPI)")
struct FastTilingTests {
    @Test("tilings cover the box once and hold every box plane under the rank's grid slab",
          arguments: [-9, -3, 0, 4], [1, 2, 3, 5, 8])
    func tilingsCoverTheBox(start: Int, ranks: Int) {
        let box = FastBox(shape: XYZ(10, 9, 20), start: XYZ(-2, -3, start), size: XYZ(14, 14, 24))
        // FFTW-MPI style: equal blocks, the last ranks possibly empty.
        let block = (box.size.z + ranks - 1) / ranks
        let grid = (0..<ranks).map { min(box.size.z, $0 * block) ..< min(box.size.z, ($0 + 1) * block) }
        let tilings = MethodSlabs.fastTilings(box: box, gridPlanes: grid)
        #expect(tilings.first?.lowerBound == 0 && tilings.last?.upperBound == box.shape.z)
        for r in 1..<ranks { #expect(tilings[r].lowerBound == tilings[r - 1].upperBound) }
        for (r, planes) in grid.enumerated() {
            let under = planes.map { box.start.z + $0 }.filter { (0..<box.shape.z).contains($0) }
            #expect(under.allSatisfy { tilings[r].contains($0) }, "rank \(r): \(planes) → \(tilings[r])")
        }
    }
}
