import Testing
import TestSupport
@testable import LocScaleCore

/// `BallDilation` (the growth of `scale`'s automatic mask) against a direct search over every
/// pair of voxels, on whole maps and on every split into z-slabs.
@Suite("ball dilation")
struct BallDilationTests {
    /// A sparse random mask of `shape`, values 0 and 1 (and a few soft values either side of 0.5).
    static func randomMask(_ shape: XYZ<Int>, seed: UInt64) -> [Float] {
        var generator = SplitMix64(seed: seed)
        return (0..<shape.x * shape.y * shape.z).map { _ in
            switch generator.next() % 200 {
            case 0: return 1
            case 1: return 0.5
            case 2: return 0.4999
            default: return 0
            }
        }
    }

    /// Every voxel with a mask voxel (≥ 0.5) within `radius`, by brute force.
    static func direct(_ mask: [Float], shape s: XYZ<Int>, radius: Double) -> [Float] {
        let inside = mask.indices.filter { mask[$0] >= 0.5 }.map { ($0 % s.x, ($0 / s.x) % s.y, $0 / (s.x * s.y)) }
        return mask.indices.map { i in
            let (x, y, z) = (i % s.x, (i / s.x) % s.y, i / (s.x * s.y))
            let hit = inside.contains { m in
                Double((m.0 - x) * (m.0 - x) + (m.1 - y) * (m.1 - y) + (m.2 - z) * (m.2 - z)) <= radius * radius
            }
            return hit ? 1 : 0
        }
    }

    @Test("the whole map: the direct search's grown mask, radii 0 to 4.5",
          arguments: [0, 1, 1.5, 2, 2.9, 3, 4.5])
    func wholeMap(radius: Double) {
        let shape = XYZ(13, 11, 9)
        let mask = Self.randomMask(shape, seed: 3)
        let dilation = BallDilation(radius: radius)
        let grown = dilation.grow(mask, held: 0..<shape.z, shape: shape, planes: 0..<shape.z)
        #expect(grown == Self.direct(mask, shape: shape, radius: radius))
        #expect(dilation.reach == Int(radius))
    }

    @Test("z-slabs with the planes within reach held: the whole map's planes bit for bit, for every split")
    func slabs() {
        let shape = XYZ(10, 7, 12)
        let mask = Self.randomMask(shape, seed: 8)
        let dilation = BallDilation(radius: 2.5)
        let whole = Self.direct(mask, shape: shape, radius: 2.5)
        let plane = shape.x * shape.y
        for cut in 0...shape.z {
            for planes in [0..<cut, cut..<shape.z] {
                let held = max(0, planes.lowerBound - dilation.reach)
                    ..< min(shape.z, planes.upperBound + dilation.reach)
                let grown = dilation.grow(Array(mask[held.lowerBound * plane ..< held.upperBound * plane]), held: held,
                                          shape: shape, planes: planes)
                #expect(grown[...] == whole[planes.lowerBound * plane ..< planes.upperBound * plane], "\(planes)")
            }
        }
    }

    @Test("an empty mask stays empty; one voxel grows into the ball of radius 3 (123 voxels)")
    func ball() {
        let shape = XYZ(9, 9, 9)
        var mask = [Float](repeating: 0, count: 729)
        #expect(BallDilation(radius: 3).grow(mask, held: 0..<9, shape: shape, planes: 0..<9).allSatisfy { $0 == 0 })
        mask[4 * 81 + 4 * 9 + 4] = 1
        let grown = BallDilation(radius: 3).grow(mask, held: 0..<9, shape: shape, planes: 0..<9)
        #expect(grown.filter { $0 == 1 }.count == 123)
    }
}
